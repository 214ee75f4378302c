#!/usr/bin/env bash
test_description='real world: data tools (sqlite3, gzip, xz, zstd, bzip2, lz4, zip, jq, bc, git, clustalo) hit on rerun with an exact replay'
. "$(dirname "$0")/../lib.sh"
. "$TEST_SRC_DIR/lib-realworld.sh"

data_setup() {
	seq 1 2000 | sed "s/^/line /" >data.txt
}

test_expect_success 'sqlite3: create a database, query it' '
	rw_need sqlite3 &&
	rw_case sqlite3 "printf \"create table t(a int, b text);\ninsert into t values (1, \\\"x\\\"), (2, \\\"y\\\");\nselect count(*), sum(a) from t;\n\" >s.sql" \
		"echo \"select 3;\" >>s.sql" \
		"sqlite3 db.sqlite <s.sql && sqlite3 db.sqlite \"select b from t order by a\""
'

test_expect_success 'gzip -k' '
	rw_case gzip data_setup "echo end >>data.txt" "gzip -k -9 data.txt && gzip -l data.txt.gz | tail -1 | awk \"{print \\\$2}\""
'

test_expect_success 'xz -k' '
	rw_need xz &&
	rw_case xz data_setup "echo end >>data.txt" "xz -k data.txt && xz -l data.txt.xz | tail -1 | cut -c1-30"
'

test_expect_success 'zstd' '
	rw_need zstd &&
	rw_case zstd data_setup "echo end >>data.txt" "zstd -q -19 data.txt -o data.zst && zstd -dc data.zst | wc -l"
'

test_expect_success 'bzip2 -k' '
	rw_need bzip2 &&
	rw_case bzip2 data_setup "echo end >>data.txt" "bzip2 -k data.txt && bzip2 -tv data.txt.bz2"
'

test_expect_success 'lz4' '
	rw_need lz4 &&
	rw_case lz4 data_setup "echo end >>data.txt" "lz4 -q data.txt data.lz4 && lz4 -dc data.lz4 | tail -1"
'

test_expect_success 'zip and unzip' '
	rw_need zip unzip &&
	rw_case zip data_setup "echo end >>data.txt" "zip -q -X d.zip data.txt && unzip -l d.zip | awk \"NR==4 {print \\\$1, \\\$4}\""
'

test_expect_success 'jq: transform JSON' '
	rw_need jq &&
	rw_case jq "echo \"{\\\"a\\\": [3, 1, 2], \\\"b\\\": \\\"x\\\"}\" >in.json" "echo \"{\\\"a\\\": [9]}\" >in.json" \
		"jq -c \".a | sort\" in.json && jq -r .b in.json"
'

test_expect_success 'bc: arbitrary precision' '
	rw_need bc &&
	rw_case bc "echo \"scale=30; 4*a(1)\" >pi.bc" "echo \"scale=10; 4*a(1)\" >pi.bc" "bc -l pi.bc"
'

git_setup() {
	git init -q repo && (cd repo &&
	echo hello >f.txt && git add f.txt &&
	GIT_AUTHOR_DATE=2001-01-01T00:00:00Z GIT_COMMITTER_DATE=2001-01-01T00:00:00Z \
	git -c user.name=t -c user.email=t@e commit -q -m first)
}
# git keeps its index in the tree: a commit with fixed dates and identity
# gives the same objects on every run.
test_expect_success 'git: status, diff and a commit with fixed dates' '
	rw_need git &&
	rw_case git git_setup "echo changed >>repo/f.txt" \
		"cd repo && echo more >g.txt && git status --short && git add g.txt && GIT_AUTHOR_DATE=2001-01-02T00:00:00Z GIT_COMMITTER_DATE=2001-01-02T00:00:00Z git -c user.name=t -c user.email=t@e commit -q -m second && git log --format=\"%H %s\""
'

clustalo_setup() {
	printf ">a\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n>c\nMKSAYIAKQRQISFVKSHFSRQ\n" >seqs.fa
}
test_expect_success 'clustalo: a multiple sequence alignment' '
	rw_need clustalo &&
	rw_case clustalo clustalo_setup "printf \">d\nMKTAYIA\n\" >>seqs.fa" \
		"clustalo -i seqs.fa -o aln.fa --force --threads=1 && cat aln.fa"
'

test_done
