/* gammu_errors: the table of gammu error names and numbers (GSM_Error, equal in
 * 1.42 and 1.44) that gammu-smsd prints as "(NAME[number])". */
#ifndef SMS_SENTINEL_GAMMU_ERRORS_H
#define SMS_SENTINEL_GAMMU_ERRORS_H

/* Returns the number for NAME (e.g. "TIMEOUT" -> 14), or -1 when unknown. */
int gammu_error_code(const char *name);
/* Returns the static name for a number, or NULL when unknown. */
const char *gammu_error_name(int code);
/* Number of known errors, and the name of the i-th (for listings). */
int gammu_error_count(void);
const char *gammu_error_name_at(int index);

#endif
