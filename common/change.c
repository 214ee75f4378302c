#include "common/change.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/die.h"
#include "common/banned.h"

static const char *const change_names[CHANGE_KIND_COUNT] = {
	[CHANGE_FILE] = "file",
	[CHANGE_DIR] = "dir",
	[CHANGE_DIR_REPLACED] = "dir_replaced",
	[CHANGE_SYMLINK] = "symlink",
	[CHANGE_DELETE] = "delete",
	[CHANGE_MODE] = "mode",
	[CHANGE_SPECIAL] = "special",
};

const char *change_kind_name(enum change_kind kind)
{
	if ((unsigned)kind >= CHANGE_KIND_COUNT)
		BUG("change kind %d", (int)kind);
	return change_names[kind];
}

int change_kind_parse(const char *name, enum change_kind *out)
{
	unsigned i;

	for (i = 0; i < CHANGE_KIND_COUNT; i++) {
		if (!strcmp(name, change_names[i])) {
			*out = (enum change_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct {
	const char *name;
	mode_t type;
} file_types[] = {
	{ "file", S_IFREG }, { "dir", S_IFDIR },  { "symlink", S_IFLNK },
	{ "chr", S_IFCHR },  { "blk", S_IFBLK },  { "fifo", S_IFIFO },
	{ "sock", S_IFSOCK },
};

const char *file_type_name(mode_t mode)
{
	size_t i;

	for (i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if ((mode & S_IFMT) == file_types[i].type)
			return file_types[i].name;
	return "unknown";
}

int file_type_parse(const char *name, mode_t *out)
{
	size_t i;

	for (i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++) {
		if (!strcmp(name, file_types[i].name)) {
			*out = file_types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}
