/* gammu_errors: gammu's GSM_Error names and numbers, one row each. Numbers are
 * those of gammu-error.h in 1.42.0 (unchanged in 1.44). */
#include "sms-sentinel/gammu_errors.h"

#include <stddef.h>
#include <string.h>

struct gammu_error_row {
    const char *name;
    int code;
};

static const struct gammu_error_row gammu_error_table[] = {
    {"NONE", 1},
    {"DEVICEOPENERROR", 2},
    {"DEVICELOCKED", 3},
    {"DEVICENOTEXIST", 4},
    {"DEVICEBUSY", 5},
    {"DEVICENOPERMISSION", 6},
    {"DEVICENODRIVER", 7},
    {"DEVICENOTWORK", 8},
    {"DEVICEDTRRTSERROR", 9},
    {"DEVICECHANGESPEEDERROR", 10},
    {"DEVICEWRITEERROR", 11},
    {"DEVICEREADERROR", 12},
    {"DEVICEPARITYERROR", 13},
    {"TIMEOUT", 14},
    {"FRAMENOTREQUESTED", 15},
    {"UNKNOWNRESPONSE", 16},
    {"UNKNOWNFRAME", 17},
    {"UNKNOWNCONNECTIONTYPESTRING", 18},
    {"UNKNOWNMODELSTRING", 19},
    {"SOURCENOTAVAILABLE", 20},
    {"NOTSUPPORTED", 21},
    {"EMPTY", 22},
    {"SECURITYERROR", 23},
    {"INVALIDLOCATION", 24},
    {"NOTIMPLEMENTED", 25},
    {"FULL", 26},
    {"UNKNOWN", 27},
    {"CANTOPENFILE", 28},
    {"MOREMEMORY", 29},
    {"PERMISSION", 30},
    {"EMPTYSMSC", 31},
    {"INSIDEPHONEMENU", 32},
    {"NOTCONNECTED", 33},
    {"WORKINPROGRESS", 34},
    {"PHONEOFF", 35},
    {"FILENOTSUPPORTED", 36},
    {"BUG", 37},
    {"CANCELED", 38},
    {"NEEDANOTHERANSWER", 39},
    {"OTHERCONNECTIONREQUIRED", 40},
    {"WRONGCRC", 41},
    {"INVALIDDATETIME", 42},
    {"MEMORY", 43},
    {"INVALIDDATA", 44},
    {"FILEALREADYEXIST", 45},
    {"FILENOTEXIST", 46},
    {"SHOULDBEFOLDER", 47},
    {"SHOULDBEFILE", 48},
    {"NOSIM", 49},
    {"GNAPPLETWRONG", 50},
    {"FOLDERPART", 51},
    {"FOLDERNOTEMPTY", 52},
    {"DATACONVERTED", 53},
    {"UNCONFIGURED", 54},
    {"WRONGFOLDER", 55},
    {"PHONE_INTERNAL", 56},
    {"WRITING_FILE", 57},
    {"NONE_SECTION", 58},
    {"USING_DEFAULTS", 59},
    {"CORRUPTED", 60},
    {"BADFEATURE", 61},
    {"DISABLED", 62},
    {"SPECIFYCHANNEL", 63},
    {"NOTRUNNING", 64},
    {"NOSERVICE", 65},
    {"BUSY", 66},
    {"COULDNT_CONNECT", 67},
    {"COULDNT_RESOLVE", 68},
    {"GETTING_SMSC", 69},
    {"ABORTED", 70},
    {"INSTALL_NOT_FOUND", 71},
    {"READ_ONLY", 72},
    {"NETWORK_ERROR", 73},
    {"DB_VERSION", 74},
    {"DB_DRIVER", 75},
    {"DB_CONFIG", 76},
    {"DB_CONNECT", 77},
    {"DB_TIMEOUT", 78},
    {"SQL", 79},
    {"INVALID_OPERATION", 80},
    {"MEMORY_NOT_AVAILABLE", 81},
};

#define GAMMU_ERROR_ROWS ((int)(sizeof(gammu_error_table) / sizeof(gammu_error_table[0])))

int gammu_error_code(const char *name)
{
    for (int i = 0; i < GAMMU_ERROR_ROWS; i++)
        if (strcmp(gammu_error_table[i].name, name) == 0)
            return gammu_error_table[i].code;
    return -1;
}

const char *gammu_error_name(int code)
{
    for (int i = 0; i < GAMMU_ERROR_ROWS; i++)
        if (gammu_error_table[i].code == code)
            return gammu_error_table[i].name;
    return NULL;
}

int gammu_error_count(void) { return GAMMU_ERROR_ROWS; }

const char *gammu_error_name_at(int index)
{
    return index >= 0 && index < GAMMU_ERROR_ROWS ? gammu_error_table[index].name : NULL;
}
