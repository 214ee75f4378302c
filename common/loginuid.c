/* The audit host facts (common/loginuid.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "common/loginuid.h"
#include "common/strbuf.h"
#include "common/banned.h"

bool loginuid_fact_known(const char *name)
{
	return !strcmp(name, "loginuid") || !strcmp(name, "sessionid");
}

int loginuid_fact_value(const char *name, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	size_t len = out->len;
	ssize_t n;

	if (!loginuid_fact_known(name))
		return -EINVAL;
	strbuf_addf(&path, "/proc/self/%s", name);
	n = strbuf_read_file_at(out, AT_FDCWD, path.buf, 16);
	strbuf_release(&path);
	if (n < 0) {
		strbuf_setlen(out, len);
		return (int)n;
	}
	/* the kernel prints no newline; tolerate one */
	strbuf_trim_trailing_newline(out);
	if (out->len == len)
		return -ENODATA;
	return 0;
}
