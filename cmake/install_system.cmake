# install_system.cmake: installs the system integration files (systemd unit,
# gammu-smsd drop-in, udev rule, example config, docs). Runs at install time,
# so paths follow the prefix actually used: /usr for cpack's .deb, /usr/local
# (or whatever) for `cmake --install`. The unit's ExecStart is rewritten to the
# installed binary. Set by CMakeLists.txt: SMS_SOURCE_DIR, SMS_BINARY_DIR,
# SMS_BINDIR (relative), SMS_DOCDIR (relative).
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(etc "/etc")
else()
  set(etc "${prefix}/etc")
endif()
set(contrib "${SMS_SOURCE_DIR}/contrib")

# The unit, pointing at the binary under this prefix.
file(READ "${contrib}/sms-sentinel.service" unit)
string(REPLACE "/usr/bin/sms-sentinel" "${prefix}/${SMS_BINDIR}/sms-sentinel" unit "${unit}")
set(staged "${SMS_BINARY_DIR}/install-staging")
file(MAKE_DIRECTORY "${staged}")
file(WRITE "${staged}/sms-sentinel.service" "${unit}")
file(INSTALL "${staged}/sms-sentinel.service" DESTINATION "${prefix}/lib/systemd/system")

# The stop timeout for gammu-smsd, under a name that cannot clash with others.
file(COPY_FILE "${contrib}/gammu-smsd.service.d/timeout.conf" "${staged}/sms-sentinel-timeout.conf")
file(INSTALL "${staged}/sms-sentinel-timeout.conf" DESTINATION "${prefix}/lib/systemd/system/gammu-smsd.service.d")

file(INSTALL "${contrib}/90-sms-sentinel.rules" DESTINATION "${prefix}/lib/udev/rules.d")

# The example config (a conffile in the .deb: dpkg keeps local edits).
file(INSTALL "${contrib}/sms-sentinel.conf" DESTINATION "${etc}")

# Docs: README, the Home Assistant folder and examples/ when present.
set(doc "${prefix}/${SMS_DOCDIR}")
file(INSTALL "${SMS_SOURCE_DIR}/README.md" DESTINATION "${doc}")
foreach(dir ha-discovery examples)
  if(IS_DIRECTORY "${SMS_SOURCE_DIR}/${dir}")
    file(INSTALL "${SMS_SOURCE_DIR}/${dir}" DESTINATION "${doc}"
         PATTERN "node_modules" EXCLUDE PATTERN "*.pyc" EXCLUDE PATTERN "__pycache__" EXCLUDE)
  endif()
endforeach()
