/* /proc/self/status's masks (contract in common/procstatus.h). */
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

int proc_status_mask(const char *status, const char *field, uint64_t *mask)
{
	size_t len = strlen(field);
	const char *p = status;
	char *end;
	unsigned long long v;

	for (;;) {
		if (!strncmp(p, field, len) && p[len] == ':' && p[len + 1] == '\t')
			break;
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	p += len + 2;
	errno = 0;
	v = strtoull(p, &end, 16);
	if (errno || end == p || (*end != '\n' && *end != '\0'))
		return -ENOENT;
	*mask = v;
	return 0;
}
