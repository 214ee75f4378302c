#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "common/strbuf.h"

#include "tests/unit/unit.h"

TEST(test_init_invariants)
{
	struct strbuf sb = STRBUF_INIT;
	struct strbuf sb2;

	CHECK(sb.buf != NULL);
	CHECK_EQ_INT(sb.len, 0);
	CHECK_EQ_INT(sb.alloc, 0);
	CHECK_EQ_STR(sb.buf, "");

	strbuf_init(&sb2, 100);
	CHECK(sb2.alloc > 100);
	CHECK_EQ_STR(sb2.buf, "");
	strbuf_release(&sb2);
	CHECK_EQ_INT(sb2.alloc, 0);
	CHECK(sb2.buf == strbuf_slopbuf);

	/* Releasing an untouched strbuf is fine, twice too. */
	strbuf_release(&sb);
	strbuf_release(&sb);
	CHECK_EQ_STR(sb.buf, "");
}

TEST(test_add)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, 'd');
	strbuf_add(&sb, "ef\0gh", 5);
	strbuf_add(&sb, NULL, 0);
	CHECK_EQ_INT(sb.len, 9);
	CHECK_EQ_MEM(sb.buf, sb.len, "abcdef\0gh", (size_t)9);
	CHECK_EQ_INT(sb.buf[sb.len], '\0');
	CHECK(sb.alloc > sb.len);
}

TEST(test_addf_grows)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	char big[1000];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&sb, "%d-%s", 42, "z");
	CHECK_EQ_STR(sb.buf, "42-z");
	strbuf_addf(&sb, "%s", big);
	CHECK_EQ_INT(sb.len, 4 + 999);
	CHECK_EQ_INT(sb.buf[sb.len], '\0');
	strbuf_reset(&sb);
	for (i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i % 10);
	CHECK_EQ_INT(sb.len, 2000);
	CHECK_EQ_MEM(sb.buf + 1990, (size_t)10, "5,6,7,8,9,", (size_t)10);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s", "");
	CHECK_EQ_STR(sb.buf, "");
}

TEST(test_addbuf_self)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct strbuf other = STRBUF_INIT;

	strbuf_addstr(&sb, "0123456789abcdef");
	strbuf_addbuf(&sb, &sb);
	CHECK_EQ_STR(sb.buf, "0123456789abcdef0123456789abcdef");
	strbuf_addstr(&other, "!");
	strbuf_addbuf(&sb, &other);
	CHECK_EQ_INT(sb.len, 33);
	strbuf_release(&other);
}

TEST(test_detach)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	s = strbuf_detach(&sb, &len);
	CHECK(s != NULL);
	CHECK(s != strbuf_slopbuf);
	CHECK_EQ_STR(s, "");
	CHECK_EQ_INT(len, 0);
	free(s);

	strbuf_addstr(&sb, "hello");
	s = strbuf_detach(&sb, &len);
	CHECK_EQ_STR(s, "hello");
	CHECK_EQ_INT(len, 5);
	CHECK(sb.buf == strbuf_slopbuf);
	CHECK_EQ_INT(sb.len, 0);
	free(s);
}

TEST(test_setlen_trim)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "line\r\n");
	strbuf_trim_trailing_newline(&sb);
	CHECK_EQ_STR(sb.buf, "line");
	strbuf_trim_trailing_newline(&sb);
	CHECK_EQ_STR(sb.buf, "line");
	strbuf_addstr(&sb, "\n\n");
	strbuf_trim_trailing_newline(&sb);
	CHECK_EQ_STR(sb.buf, "line\n");
	strbuf_setlen(&sb, 2);
	CHECK_EQ_STR(sb.buf, "li");
	strbuf_reset(&sb);
	CHECK_EQ_STR(sb.buf, "");
	strbuf_trim_trailing_newline(&sb);
	CHECK_EQ_INT(sb.len, 0);
}

TEST(test_read_fd_and_file)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	_cleanup_close_ int dfd = -1;
	char data[100000];
	ssize_t n;
	size_t i;
	int fds[2];

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	dfd = open(unit_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!CHECK(dfd >= 0))
		return;
	CHECK_EQ_INT(write_file_atomic_at(dfd, "f", data, sizeof(data), 0644,
					  0),
		     0);
	strbuf_addstr(&sb, "pre");
	n = strbuf_read_file_at(&sb, dfd, "f", 0);
	CHECK_EQ_INT(n, sizeof(data));
	CHECK_EQ_MEM(sb.buf + 3, sb.len - 3, data, sizeof(data));
	CHECK_EQ_INT(sb.buf[sb.len], '\0');

	CHECK_EQ_INT(strbuf_read_file_at(&sb, dfd, "missing", 0), -ENOENT);
	CHECK_EQ_INT(sb.len, 3 + sizeof(data));

	/* A pipe: short reads, then EOF. */
	if (!CHECK(pipe2(fds, O_CLOEXEC) == 0))
		return;
	CHECK_EQ_INT(write_full(fds[1], "abc", 3), 3);
	close(fds[1]);
	strbuf_reset(&sb);
	CHECK_EQ_INT(strbuf_read_fd(&sb, fds[0], 1), 3);
	CHECK_EQ_STR(sb.buf, "abc");
	close(fds[0]);

	CHECK_EQ_INT(strbuf_read_fd(&sb, -1, 0), -EBADF);
}

int main(void)
{
	RUN(test_init_invariants);
	RUN(test_add);
	RUN(test_addf_grows);
	RUN(test_addbuf_self);
	RUN(test_detach);
	RUN(test_setlen_trim);
	RUN(test_read_fd_and_file);
	return unit_done();
}
