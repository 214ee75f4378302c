/*
 * The small shared helpers of common/: the change and file-type
 * vocabulary, the one size grammar, the string map, little-endian
 * integers, stat equality, fd passing and the path-safety check.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/change.h"
#include "common/cpuid.h"
#include "common/fdpass.h"
#include "common/hex.h"
#include "common/filestat.h"
#include "common/le.h"
#include "common/path.h"
#include "common/strmap.h"
#include "common/units.h"
#include "tests/unit/unit.h"

TEST(change_names_round_trip)
{
	enum change_kind k, back;

	for (k = CHANGE_FILE; k < CHANGE_KIND_COUNT; k++) {
		CHECK_EQ_INT(change_kind_parse(change_kind_name(k), &back), 0);
		CHECK_EQ_INT(back, k);
	}
	CHECK_EQ_STR(change_kind_name(CHANGE_DIR_REPLACED), "dir_replaced");
	CHECK_EQ_INT(change_kind_parse("chardev", &back), -EINVAL);
}

TEST(file_type_names)
{
	mode_t m;

	CHECK_EQ_STR(file_type_name(S_IFCHR | 0600), "chr");
	CHECK_EQ_STR(file_type_name(S_IFREG | 0644), "file");
	CHECK_EQ_STR(file_type_name(S_IFLNK), "symlink");
	CHECK_EQ_STR(file_type_name(0), "unknown");
	CHECK_EQ_INT(file_type_parse("sock", &m), 0);
	CHECK(m == S_IFSOCK);
	CHECK_EQ_INT(file_type_parse("chardev", &m), -EINVAL);
}

TEST(sizes)
{
	uint64_t v;

	CHECK_EQ_INT(parse_size("4096", &v), 0);
	CHECK(v == 4096);
	CHECK_EQ_INT(parse_size("64M", &v), 0);
	CHECK(v == 64ull << 20);
	/* --max-size 64mb and --memory 64mb: one grammar */
	CHECK_EQ_INT(parse_size("64mb", &v), 0);
	CHECK(v == 64ull << 20);
	CHECK_EQ_INT(parse_size("1G", &v), 0);
	CHECK(v == 1ull << 30);
	CHECK_EQ_INT(parse_size("2KiB", &v), 0);
	CHECK(v == 2048);
	CHECK_EQ_INT(parse_size("10b", &v), 0);
	CHECK(v == 10);
	CHECK_EQ_INT(parse_size("", &v), -EINVAL);
	CHECK_EQ_INT(parse_size(" 1", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("-1", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("+1", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("12X", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("1.5G", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("99999999999999999999", &v), -EINVAL);
	CHECK_EQ_INT(parse_size("99999999999T", &v), -EINVAL);
}

TEST(ages_and_seconds)
{
	uint64_t a;
	double s;

	CHECK_EQ_INT(parse_age("90", &a), 0);
	CHECK(a == 90);
	CHECK_EQ_INT(parse_age("2w", &a), 0);
	CHECK(a == 2 * 604800);
	CHECK_EQ_INT(parse_age("1y", &a), -EINVAL);
	CHECK_EQ_INT(parse_seconds("1.5", &s), 0);
	CHECK(s == 1.5);
	CHECK_EQ_INT(parse_seconds("2m", &s), 0);
	CHECK(s == 120);
	CHECK_EQ_INT(parse_seconds("nan", &s), -EINVAL);
	CHECK_EQ_INT(parse_seconds("inf", &s), -EINVAL);
	CHECK_EQ_INT(parse_seconds("-3", &s), -EINVAL);
	CHECK_EQ_INT(parse_seconds("3x", &s), -EINVAL);
	CHECK_EQ_INT(parse_seconds("", &s), -EINVAL);
}

TEST(strmap_set_and_map)
{
	struct strmap m = STRMAP_INIT;
	char key[32];
	int i;

	CHECK_EQ_INT(strmap_get(&m, "a", 1), -1);
	CHECK_EQ_INT(strmap_put(&m, "a\0b", 3, 5), -1);
	CHECK_EQ_INT(strmap_put(&m, "a\0b", 3, 6), 5);
	CHECK_EQ_INT(strmap_get(&m, "a\0b", 3), 5);
	CHECK_EQ_INT(strmap_get(&m, "a", 1), -1);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "/p/%d", i);
		strmap_add(&m, key);
	}
	CHECK_EQ_INT(strmap_count(&m), 5001);
	CHECK(strmap_has(&m, "/p/4999"));
	CHECK(!strmap_has(&m, "/p/5000"));
	strmap_clear(&m);
	CHECK_EQ_INT(strmap_count(&m), 0);
	CHECK(!strmap_has(&m, "/p/1"));
	strmap_add(&m, "/p/1");
	CHECK(strmap_has(&m, "/p/1"));
	strmap_release(&m);
	CHECK(!strmap_has(&m, "/p/1"));
}

TEST(little_endian)
{
	unsigned char b[8];

	le_put(b, 0x0102030405060708ull, 8);
	CHECK(b[0] == 8 && b[7] == 1);
	CHECK(le_get(b, 8) == 0x0102030405060708ull);
	le_put(b, 0xabcd, 2);
	CHECK(le_get(b, 2) == 0xabcd);
}

TEST(stat_same)
{
	struct stat a, b;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (!CHECK(fd >= 0))
		return;
	CHECK(fstat(fd, &a) == 0);
	b = a;
	CHECK(stat_same_file(&a, &b));
	b.st_mtim.tv_nsec ^= 1;
	CHECK(!stat_same_file(&a, &b));
	b = a;
	b.st_size++;
	CHECK(!stat_same_file(&a, &b));
	close(fd);
}

TEST(pass_an_fd)
{
	int sv[2], fd, got;
	struct stat a, b;

	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0))
		return;
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK_EQ_INT(fd_send(sv[0], fd), 0);
	got = fd_recv(sv[1]);
	CHECK(got >= 0);
	CHECK(fcntl(got, F_GETFD) & FD_CLOEXEC);
	CHECK(fstat(fd, &a) == 0 && fstat(got, &b) == 0);
	CHECK(a.st_ino == b.st_ino);
	close(got);
	/* A message without an fd, then the peer gone. */
	CHECK(write(sv[0], "x", 1) == 1);
	CHECK_EQ_INT(fd_recv(sv[1]), -EPROTO);
	close(sv[0]);
	CHECK_EQ_INT(fd_recv(sv[1]), -ENODATA);
	close(sv[1]);
	close(fd);
}

TEST(path_safety)
{
	CHECK(!path_unsafe_reason("/", PATH_ABSOLUTE));
	CHECK(!path_unsafe_reason("/a/b", PATH_ABSOLUTE));
	CHECK(!path_unsafe_reason("a/b", PATH_RELATIVE));
	CHECK_EQ_STR(path_unsafe_reason("a", PATH_ABSOLUTE), "path is not absolute");
	CHECK_EQ_STR(path_unsafe_reason("/a", PATH_RELATIVE), "path is absolute");
	CHECK_EQ_STR(path_unsafe_reason("/a//b", PATH_ABSOLUTE),
		     "path has an empty component");
	CHECK_EQ_STR(path_unsafe_reason("/a/", PATH_ABSOLUTE),
		     "path has an empty component");
	CHECK_EQ_STR(path_unsafe_reason("/a/./b", PATH_ABSOLUTE),
		     "path has a '.' component");
	CHECK_EQ_STR(path_unsafe_reason("a/..", PATH_RELATIVE),
		     "path has a '..' component");
	CHECK_EQ_STR(path_unsafe_reason("", PATH_RELATIVE),
		     "path has an empty component");
}

/* glibc's start-up reading of CPUID gives the words CPUID gives now */
TEST(cpuid_words_agree)
{
	uint32_t glibc[10], direct[10];

	cpuid_words(glibc);
	cpuid_words_direct(direct);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(glibc[i], direct[i]);
	CHECK(strlen(cpuid_key()) > 40);
}

TEST(hex_round_trip)
{
	unsigned char in[3] = { 0x00, 0xab, 0x7f }, out[3];
	char hex[7];
	struct strbuf sb = STRBUF_INIT;

	hex_encode(in, 3, hex);
	CHECK_EQ_STR(hex, "00ab7f");
	CHECK_EQ_INT(hex_decode(hex, 6, out), 0);
	CHECK(!memcmp(in, out, 3));
	CHECK_EQ_INT(hex_decode("0", 1, out), -EINVAL);
	CHECK_EQ_INT(hex_decode("AB", 2, out), -EINVAL);
	CHECK_EQ_INT(hex_decode("zz", 2, out), -EINVAL);
	strbuf_addstr(&sb, "x");
	strbuf_addhex(&sb, in, 3);
	CHECK_EQ_STR(sb.buf, "x00ab7f");
	CHECK_EQ_INT(strbuf_error(&sb, -EIO, "cannot %s", "go"), -EIO);
	CHECK_EQ_STR(sb.buf, "cannot go");
	CHECK_EQ_INT(strbuf_error(NULL, -EIO, "x"), -EIO);
	strbuf_release(&sb);
}

int main(void)
{
	RUN(change_names_round_trip);
	RUN(file_type_names);
	RUN(sizes);
	RUN(ages_and_seconds);
	RUN(strmap_set_and_map);
	RUN(little_endian);
	RUN(stat_same);
	RUN(pass_an_fd);
	RUN(path_safety);
	RUN(cpuid_words_agree);
	RUN(hex_round_trip);
	return unit_done();
}
