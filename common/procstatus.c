/* /proc/self/status's masks and lists (contract in common/procstatus.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/procstatus.h"
#include "common/banned.h"

int proc_status_read(char *buf, size_t size)
{
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read_full(fd, buf, size);
	close(fd);
	if (n < 0)
		return (int)n;
	if ((size_t)n >= size)
		return -EFBIG;
	buf[n] = '\0';
	return 0;
}

/* The value of line "@field:\t..." of @status, or NULL. */
static const char *field_value(const char *status, const char *field)
{
	size_t len = strlen(field);
	const char *p = status;

	for (;;) {
		if (!strncmp(p, field, len) && p[len] == ':' && p[len + 1] == '\t')
			return p + len + 2;
		p = strchr(p, '\n');
		if (!p)
			return NULL;
		p++;
	}
}

int proc_status_mask(const char *status, const char *field, uint64_t *mask)
{
	const char *p = field_value(status, field);
	char *end;
	unsigned long long v;

	if (!p)
		return -ENOENT;
	errno = 0;
	v = strtoull(p, &end, 16);
	if (errno || end == p || (*end != '\n' && *end != '\0'))
		return -ENOENT;
	*mask = v;
	return 0;
}

int proc_status_text(const char *status, const char *field, char *out,
		     size_t size)
{
	const char *p = field_value(status, field);
	size_t n;

	if (!p)
		return -ENOENT;
	n = strcspn(p, "\n");
	if (n >= size)
		return -ERANGE;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}
