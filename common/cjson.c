/*
 * cJSON, loaded when first used (common/dlsyms.h) instead of linked:
 * most runs never need it (a cache hit prints and parses no JSON: the
 * entry and counter formats are binary), and a linked library costs every
 * process its loading (an open, four mappings, relocations, about seven
 * page faults). Each cJSON function procache calls is defined here with
 * the library's own signature and forwards to the library's, resolved at
 * the first call; cJSON_Delete(NULL) loads nothing. The macros of
 * <cjson/cJSON.h> (cJSON_ArrayForEach, cJSON_SetNumberValue) read the
 * struct or call a function below. A function not defined here does not
 * link: add it to both lists.
 *
 * No libcjson.so.1 on the system is what the dynamic loader reported
 * before procache's main() when the library was linked: the same message
 * and exit status (127) now, at the first use.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/dlsyms.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define CJSON_SONAME "libcjson.so.1"

static struct {
	cJSON* (*AddArrayToObject)(cJSON * const object, const char * const name);
	cJSON* (*AddBoolToObject)(cJSON * const object, const char * const name, const cJSON_bool boolean);
	cJSON_bool (*AddItemToArray)(cJSON *array, cJSON *item);
	cJSON_bool (*AddItemToObject)(cJSON *object, const char *string, cJSON *item);
	cJSON* (*AddNullToObject)(cJSON * const object, const char * const name);
	cJSON* (*AddNumberToObject)(cJSON * const object, const char * const name, const double number);
	cJSON* (*AddObjectToObject)(cJSON * const object, const char * const name);
	cJSON* (*AddStringToObject)(cJSON * const object, const char * const name, const char * const string);
	cJSON* (*AddTrueToObject)(cJSON * const object, const char * const name);
	cJSON * (*CreateArray)(void);
	cJSON * (*CreateObject)(void);
	cJSON * (*CreateString)(const char *string);
	void (*Delete)(cJSON *item);
	void (*DeleteItemFromObject)(cJSON *object, const char *string);
	void (*DeleteItemFromObjectCaseSensitive)(cJSON *object, const char *string);
	cJSON * (*Duplicate)(const cJSON *item, cJSON_bool recurse);
	cJSON * (*GetArrayItem)(const cJSON *array, int index);
	int (*GetArraySize)(const cJSON *array);
	cJSON * (*GetObjectItem)(const cJSON * const object, const char * const string);
	cJSON * (*GetObjectItemCaseSensitive)(const cJSON * const object, const char * const string);
	cJSON_bool (*IsArray)(const cJSON * const item);
	cJSON_bool (*IsBool)(const cJSON * const item);
	cJSON_bool (*IsNumber)(const cJSON * const item);
	cJSON_bool (*IsObject)(const cJSON * const item);
	cJSON_bool (*IsString)(const cJSON * const item);
	cJSON_bool (*IsTrue)(const cJSON * const item);
	cJSON * (*ParseWithLengthOpts)(const char *value, size_t buffer_length, const char **return_parse_end, cJSON_bool require_null_terminated);
	char * (*Print)(const cJSON *item);
	char * (*PrintUnformatted)(const cJSON *item);
	double (*SetNumberHelper)(cJSON *object, double number);
} lib;

static void load_once(void)
{
	static const struct dl_sym syms[] = {
		{ "cJSON_AddArrayToObject", (void **)&lib.AddArrayToObject },
		{ "cJSON_AddBoolToObject", (void **)&lib.AddBoolToObject },
		{ "cJSON_AddItemToArray", (void **)&lib.AddItemToArray },
		{ "cJSON_AddItemToObject", (void **)&lib.AddItemToObject },
		{ "cJSON_AddNullToObject", (void **)&lib.AddNullToObject },
		{ "cJSON_AddNumberToObject", (void **)&lib.AddNumberToObject },
		{ "cJSON_AddObjectToObject", (void **)&lib.AddObjectToObject },
		{ "cJSON_AddStringToObject", (void **)&lib.AddStringToObject },
		{ "cJSON_AddTrueToObject", (void **)&lib.AddTrueToObject },
		{ "cJSON_CreateArray", (void **)&lib.CreateArray },
		{ "cJSON_CreateObject", (void **)&lib.CreateObject },
		{ "cJSON_CreateString", (void **)&lib.CreateString },
		{ "cJSON_Delete", (void **)&lib.Delete },
		{ "cJSON_DeleteItemFromObject", (void **)&lib.DeleteItemFromObject },
		{ "cJSON_DeleteItemFromObjectCaseSensitive", (void **)&lib.DeleteItemFromObjectCaseSensitive },
		{ "cJSON_Duplicate", (void **)&lib.Duplicate },
		{ "cJSON_GetArrayItem", (void **)&lib.GetArrayItem },
		{ "cJSON_GetArraySize", (void **)&lib.GetArraySize },
		{ "cJSON_GetObjectItem", (void **)&lib.GetObjectItem },
		{ "cJSON_GetObjectItemCaseSensitive", (void **)&lib.GetObjectItemCaseSensitive },
		{ "cJSON_IsArray", (void **)&lib.IsArray },
		{ "cJSON_IsBool", (void **)&lib.IsBool },
		{ "cJSON_IsNumber", (void **)&lib.IsNumber },
		{ "cJSON_IsObject", (void **)&lib.IsObject },
		{ "cJSON_IsString", (void **)&lib.IsString },
		{ "cJSON_IsTrue", (void **)&lib.IsTrue },
		{ "cJSON_ParseWithLengthOpts", (void **)&lib.ParseWithLengthOpts },
		{ "cJSON_Print", (void **)&lib.Print },
		{ "cJSON_PrintUnformatted", (void **)&lib.PrintUnformatted },
		{ "cJSON_SetNumberHelper", (void **)&lib.SetNumberHelper },
	};
	static void *handle;
	struct strbuf err = STRBUF_INIT;

	if (dl_load(CJSON_SONAME, &handle, syms, sizeof(syms) / sizeof(*syms),
		    &err) < 0) {
		fprintf(stderr, "procache: error while loading shared libraries: %s\n",
			err.buf);
		_exit(127);
	}
	strbuf_release(&err);
}

static void cjson_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
}

CJSON_PUBLIC(cJSON*) cJSON_AddArrayToObject(cJSON * const object, const char * const name)
{
	cjson_load();
	return lib.AddArrayToObject(object, name);
}

CJSON_PUBLIC(cJSON*) cJSON_AddBoolToObject(cJSON * const object, const char * const name, const cJSON_bool boolean)
{
	cjson_load();
	return lib.AddBoolToObject(object, name, boolean);
}

CJSON_PUBLIC(cJSON_bool) cJSON_AddItemToArray(cJSON *array, cJSON *item)
{
	cjson_load();
	return lib.AddItemToArray(array, item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_AddItemToObject(cJSON *object, const char *string, cJSON *item)
{
	cjson_load();
	return lib.AddItemToObject(object, string, item);
}

CJSON_PUBLIC(cJSON*) cJSON_AddNullToObject(cJSON * const object, const char * const name)
{
	cjson_load();
	return lib.AddNullToObject(object, name);
}

CJSON_PUBLIC(cJSON*) cJSON_AddNumberToObject(cJSON * const object, const char * const name, const double number)
{
	cjson_load();
	return lib.AddNumberToObject(object, name, number);
}

CJSON_PUBLIC(cJSON*) cJSON_AddObjectToObject(cJSON * const object, const char * const name)
{
	cjson_load();
	return lib.AddObjectToObject(object, name);
}

CJSON_PUBLIC(cJSON*) cJSON_AddStringToObject(cJSON * const object, const char * const name, const char * const string)
{
	cjson_load();
	return lib.AddStringToObject(object, name, string);
}

CJSON_PUBLIC(cJSON*) cJSON_AddTrueToObject(cJSON * const object, const char * const name)
{
	cjson_load();
	return lib.AddTrueToObject(object, name);
}

CJSON_PUBLIC(cJSON *) cJSON_CreateArray(void)
{
	cjson_load();
	return lib.CreateArray();
}

CJSON_PUBLIC(cJSON *) cJSON_CreateObject(void)
{
	cjson_load();
	return lib.CreateObject();
}

CJSON_PUBLIC(cJSON *) cJSON_CreateString(const char *string)
{
	cjson_load();
	return lib.CreateString(string);
}

CJSON_PUBLIC(void) cJSON_Delete(cJSON *item)
{
	if (!item)
		return;
	cjson_load();
	lib.Delete(item);
}

CJSON_PUBLIC(void) cJSON_DeleteItemFromObject(cJSON *object, const char *string)
{
	cjson_load();
	lib.DeleteItemFromObject(object, string);
}

CJSON_PUBLIC(void) cJSON_DeleteItemFromObjectCaseSensitive(cJSON *object, const char *string)
{
	cjson_load();
	lib.DeleteItemFromObjectCaseSensitive(object, string);
}

CJSON_PUBLIC(cJSON *) cJSON_Duplicate(const cJSON *item, cJSON_bool recurse)
{
	cjson_load();
	return lib.Duplicate(item, recurse);
}

CJSON_PUBLIC(cJSON *) cJSON_GetArrayItem(const cJSON *array, int index)
{
	cjson_load();
	return lib.GetArrayItem(array, index);
}

CJSON_PUBLIC(int) cJSON_GetArraySize(const cJSON *array)
{
	cjson_load();
	return lib.GetArraySize(array);
}

CJSON_PUBLIC(cJSON *) cJSON_GetObjectItem(const cJSON * const object, const char * const string)
{
	cjson_load();
	return lib.GetObjectItem(object, string);
}

CJSON_PUBLIC(cJSON *) cJSON_GetObjectItemCaseSensitive(const cJSON * const object, const char * const string)
{
	cjson_load();
	return lib.GetObjectItemCaseSensitive(object, string);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsArray(const cJSON * const item)
{
	cjson_load();
	return lib.IsArray(item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsBool(const cJSON * const item)
{
	cjson_load();
	return lib.IsBool(item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsNumber(const cJSON * const item)
{
	cjson_load();
	return lib.IsNumber(item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsObject(const cJSON * const item)
{
	cjson_load();
	return lib.IsObject(item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsString(const cJSON * const item)
{
	cjson_load();
	return lib.IsString(item);
}

CJSON_PUBLIC(cJSON_bool) cJSON_IsTrue(const cJSON * const item)
{
	cjson_load();
	return lib.IsTrue(item);
}

CJSON_PUBLIC(cJSON *) cJSON_ParseWithLengthOpts(const char *value, size_t buffer_length, const char **return_parse_end, cJSON_bool require_null_terminated)
{
	cjson_load();
	return lib.ParseWithLengthOpts(value, buffer_length, return_parse_end, require_null_terminated);
}

CJSON_PUBLIC(char *) cJSON_Print(const cJSON *item)
{
	cjson_load();
	return lib.Print(item);
}

CJSON_PUBLIC(char *) cJSON_PrintUnformatted(const cJSON *item)
{
	cjson_load();
	return lib.PrintUnformatted(item);
}

CJSON_PUBLIC(double) cJSON_SetNumberHelper(cJSON *object, double number)
{
	cjson_load();
	return lib.SetNumberHelper(object, number);
}
