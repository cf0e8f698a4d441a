// Node-RED settings to run examples/node-red/flows.json headless, as the
// integration test does: no editor and no HTTP server at all, no palette or
// module installs, no telemetry or update checks, flow context in memory.
//   node node_modules/node-red/red.js --userDir DIR --settings settings.js /abs/path/flows.json
module.exports = {
    httpAdminRoot: false,
    httpNodeRoot: false,
    uiHost: "127.0.0.1",
    credentialSecret: false,
    flowFilePretty: true,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
        modules: { allowInstall: false },
    },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
    contextStorage: { default: { module: "memory" } },
    logging: { console: { level: "info", metrics: false, audit: false } },
};
