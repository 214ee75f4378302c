#!/usr/bin/env python3
"""tools/chainlint.py — finds broken &&-chains in the bodies of shell tests.

    tools/chainlint.py [--tap] [--self-test DIR] [SCRIPT...]

A smaller rewrite of git's t/chainlint.pl (and t/lib-shell-parser.pl), with
the same rules. Each SCRIPT is parsed as shell to find its
test_expect_success/test_expect_failure calls, wherever they are (top
level, loops, functions); each case body is parsed again, and in it:

  - a command not joined to the next by '&&' (or '||', '|', '&') is a
    problem ("missing '&&'"), except the last of the body, of a { } group,
    of a ( ) subshell or of a $( ) substitution, which legitimately ends
    there; a command ending in 'return', 'exit' or 'continue' (with or
    without a status) needs nothing after it;
  - a command that handles "$?" itself (rc=$?, test $? = 4) may follow a
    command without '&&';
  - a command starting with 'false', 'return' or 'exit' signals failure
    explicitly, so the missing '&&'s before it are forgiven (as git does,
    for the whole body);
  - a for/while/until loop body must say what a failure inside it does:
    '|| return 1' (in the body's own shell) or '|| exit 1' (in a subshell),
    since a loop's status is only that of its last iteration; a body with
    any 'return', 'exit' or '$?' is taken as handling it.

Problems are printed as FILE:LINE: message (the line of the command that
lacks its '&&'), with --tap as "not ok N - chainlint: ..." lines and one
"ok N - chainlint: FILE" per clean file, the protocol of tests/run-all.sh.
Exit status 1 when a problem was found.

Beyond git's: a here-doc opened on a line that ends in a comment is still
skipped, '<<<' is a here-string (no body), backslashes inside single quotes
of a body stay literal.

--self-test DIR lints every DIR/*.test (snippets of test scripts) and
compares the problems found with the ones the snippet announces: a line
carrying the comment "#LINT:AMP", "#LINT:LOOPRETURN" or "#LINT:LOOPEXIT"
(several separated by commas) must be reported with those problems and
nothing else may be.
"""
import glob
import os
import re
import sys

SEPARATORS = re.compile(r'^(?:[;&\n|]|&&|\|\|)$')


class Lexer:
    """Shell tokens: words (quotes, $(), ${}, $(( )) kept inside the word),
    operators, and "\\n" (a newline, or a comment up to its newline).
    Here-doc bodies are swallowed at the newline that follows their <<TAG.
    A token is [text, start offset, end offset, first line, last line]."""

    WORD = re.compile(r'''[^\\;&|<>(){}'"$\s]+''')
    BLANKS = re.compile(r'[ \t]+')
    COMMENT = re.compile(r'#[^\n]*(?:\n|\Z)')
    DQ_PLAIN = re.compile(r'[^"$\\]+')
    OPS = ('&&', '||', '>>', ';;', '<&', '>&', '<>', '>|', '&>', '|&')

    def __init__(self, parser, text):
        self.parser = parser
        self.buf = text
        self.pos = 0
        self.lineno = 1
        self.heretags = []

    def _peekc(self):
        return self.buf[self.pos] if self.pos < len(self.buf) else ''

    def _getc(self):
        c = self._peekc()
        if c:
            self.pos += 1
        return c

    def scan_heredoc_tag(self):
        indented = ''
        if self._peekc() == '-':
            indented = self._getc()
        token = self.scan_token()
        if not token:
            return '<<' + indented
        tag = re.sub(r'''['"\\]''', '', token[0])
        token[0] = ('\t' + tag) if indented else tag
        self.heretags.append(token)
        return '<<' + indented + tag

    def scan_op(self, c):
        n = self._getc()
        if not n:
            return c
        cc = c + n
        if cc == '<<':
            if self._peekc() == '<':    # a here-string, no body
                return cc + self._getc()
            return self.scan_heredoc_tag()
        if cc in self.OPS:
            if cc == '&>' and self._peekc() == '>':
                return cc + self._getc()
            return cc
        self.pos -= 1
        return c

    def scan_sqstring(self):
        end = self.buf.find("'", self.pos)
        end = len(self.buf) if end < 0 else end + 1
        s = self.buf[self.pos:end]
        self.pos = end
        self.lineno += s.count('\n')
        return "'" + s

    def scan_dqstring(self):
        s = '"'
        while True:
            m = self.DQ_PLAIN.match(self.buf, self.pos)
            if m:
                s += m.group(0)
                self.lineno += m.group(0).count('\n')
                self.pos = m.end()
            c = self._getc()
            if not c:
                break
            if c == '"':
                s += c
                break
            if c == '$':
                s += '$' + self.scan_dollar()
                continue
            # a backslash
            c = self._getc()
            if not c:
                s += '\\'
                break
            if c == '\n':       # line splice
                self.lineno += 1
                continue
            if c not in '$`"\\':
                s += '\\'
            s += c
        return s

    def scan_balanced(self, c1, c2):
        depth = 1
        s = c1
        while self.pos < len(self.buf) and depth:
            c = self._getc()
            s += c
            if c == c1:
                depth += 1
            elif c == c2:
                depth -= 1
        self.lineno += s.count('\n')
        return s

    def scan_dollar(self):
        c = self._peekc()
        if c == '(' and self.buf.startswith('((', self.pos):
            self.pos += 1
            return self.scan_balanced('(', ')')
        if c == '(':
            self.pos += 1
            tokens = self.parser.parse(r'^\)$')
            self.parser.next_token()    # the closing ")"
            return '(' + ' '.join(t[0] for t in tokens) + ')'
        if c == '{':
            self.pos += 1
            return self.scan_balanced('{', '}')
        m = re.compile(r'\w+|[@*#?$!0-9-]').match(self.buf, self.pos)
        if m:
            self.pos = m.end()
            return m.group(0)
        return ''

    def swallow_heredocs(self):
        while self.heretags:
            tag = self.heretags.pop(0)
            indent = ''
            if tag[0].startswith('\t'):
                tag[0] = tag[0][1:]
                indent = '[ \t]*'
            start = self.pos
            m = re.compile('^' + indent + re.escape(tag[0]) + r'(?:\n|\Z)',
                           re.M).search(self.buf, self.pos)
            if m:
                self.parser.heredocs[tag[0]] = {
                    'content': self.buf[start:m.start()],
                    'start_line': self.lineno,
                }
                self.pos = m.end()
                self.lineno += self.buf.count('\n', start, self.pos)
                continue
            self.parser.problems.append(['HEREDOC', tag])
            self.lineno += self.buf.count('\n', start)
            self.pos = len(self.buf)
            break

    def scan_token(self):
        b = self.buf
        token = ''
        while True:     # restarted by a line splice before any character
            startln = self.lineno
            m = self.BLANKS.match(b, self.pos)
            if m:
                self.pos = m.end()
            start = self.pos
            m = self.COMMENT.match(b, self.pos)
            if m:
                self.pos = m.end()
                if m.group(0).endswith('\n'):
                    self.lineno += 1
                    self.swallow_heredocs()
                return ['\n', start, self.pos, startln, startln]
            restart = False
            while True:
                m = self.WORD.match(b, self.pos)
                if m:
                    token += m.group(0)
                    self.pos = m.end()
                c = self._getc()
                if not c:
                    break
                if c in ' \t\r\f\v':
                    self.pos -= 1
                    break
                if token and c in ';&|<>(){}\n':
                    self.pos -= 1
                    break
                if c == "'":
                    token += self.scan_sqstring()
                elif c == '"':
                    token += self.scan_dqstring()
                elif c == '$':
                    token += c + self.scan_dollar()
                elif c == '\n':
                    self.lineno += 1
                    self.swallow_heredocs()
                    token = c
                    break
                elif c in ';&|<>':
                    token = self.scan_op(c)
                    break
                elif c in '(){}':
                    token = c
                    break
                else:   # a backslash
                    c = self._getc()
                    if not c:
                        token += '\\'
                        break
                    if c == '\n':
                        self.lineno += 1
                        if not token:
                            restart = True
                            break
                        continue
                    token += '\\' + c
            if not restart:
                break
        if not token:
            return None
        return [token, start, self.pos, startln, self.lineno]


class ShellParser:
    """A recursive-descent reading of POSIX shell (and bash arrays and
    functions), enough to know where each command ends."""

    def __init__(self, text):
        self.buff = []
        self.stop = []
        self.heredocs = {}
        self.problems = []
        self.insubshell = 0
        self.lexer = Lexer(self, text)

    def next_token(self):
        if self.buff:
            return self.buff.pop()
        return self.lexer.scan_token()

    def untoken(self, token):
        self.buff.append(token)

    def peek(self):
        token = self.next_token()
        if token is not None:
            self.untoken(token)
        return token

    def stop_at(self, token):
        if token is None:
            return True
        return bool(self.stop and self.stop[-1] and
                    re.search(self.stop[-1], token[0]))

    def expect(self, word):
        token = self.next_token()
        if token is not None and token[0] == word:
            return [token]
        if token is not None:
            self.untoken(token)
        return []

    def optional_newlines(self):
        tokens = []
        while True:
            token = self.peek()
            if token is None or token[0] != '\n':
                return tokens
            tokens.append(self.next_token())

    def parse_group(self):
        return self.parse(r'^}$') + self.expect('}')

    def parse_subshell(self):
        self.insubshell += 1
        tokens = self.parse(r'^\)$') + self.expect(')')
        self.insubshell -= 1
        return tokens

    def through_paren(self, tokens):
        """tokens, then every token up to and with the next ")"."""
        while True:
            token = self.next_token()
            if token is None:
                return tokens
            tokens.append(token)
            if token[0] == ')':
                return tokens

    def parse_case_pattern(self):
        return self.through_paren([])

    def parse_case(self):
        tokens = [self.next_token()]    # the subject
        tokens += self.optional_newlines() + self.expect('in') + \
            self.optional_newlines()
        while True:
            token = self.peek()
            if token is None or token[0] == 'esac':
                break
            tokens += self.parse_case_pattern() + self.optional_newlines() + \
                self.parse(r'^(?:;;|esac)$')
            token = self.peek()
            if token is None or token[0] == 'esac':
                break
            tokens += self.expect(';;') + self.optional_newlines()
        return tokens + self.expect('esac')

    def parse_for(self):
        tokens = [self.next_token()] + self.optional_newlines()
        token = self.peek()
        if token is not None and token[0] == 'in':
            tokens += self.expect('in') + self.optional_newlines()
        return tokens + self.parse(r'^do$') + self.expect('do') + \
            self.optional_newlines() + self.parse_loop_body() + \
            self.expect('done')

    def parse_if(self):
        tokens = []
        while True:
            tokens += self.parse(r'^then$') + self.expect('then') + \
                self.optional_newlines() + self.parse(r'^(?:elif|else|fi)$')
            token = self.peek()
            if token is None or token[0] != 'elif':
                break
            tokens += self.expect('elif')
        token = self.peek()
        if token is not None and token[0] == 'else':
            tokens += self.expect('else') + self.optional_newlines() + \
                self.parse(r'^fi$')
        return tokens + self.expect('fi')

    def parse_loop_body(self):
        return self.parse(r'^done$')

    def parse_loop(self):
        return self.parse(r'^do$') + self.expect('do') + \
            self.optional_newlines() + self.parse_loop_body() + \
            self.expect('done')

    def parse_func(self):
        return self.expect('(') + self.expect(')') + \
            self.optional_newlines() + self.parse_cmd()

    def parse_bash_array_assignment(self):
        return self.through_paren(self.expect('('))

    COMPOUND = {
        '{': parse_group, '(': parse_subshell, 'case': parse_case,
        'for': parse_for, 'if': parse_if, 'until': parse_loop,
        'while': parse_loop,
    }

    def parse_cmd(self):
        cmd = self.next_token()
        if cmd is None:
            return []
        if cmd[0] == '\n':
            return [cmd]
        tokens = [cmd]
        if cmd[0] == '!':
            return tokens + self.parse_cmd()
        f = self.COMPOUND.get(cmd[0])
        if f:
            tokens += f(self)
        else:
            token = self.peek()
            if token is not None and token[0] == '(':
                if not re.search(r'\w=$', cmd[0]):
                    return tokens + self.parse_func()
                array = self.parse_bash_array_assignment()
                tokens[-1][0] += ' '.join(t[0] for t in array)
                if array:
                    tokens[-1][2] = array[-1][2]
        while True:
            token = self.next_token()
            if token is None:
                break
            if self.stop_at(token):
                self.untoken(token)
                break
            tokens.append(token)
            if SEPARATORS.match(token[0]):
                break
        token = self.peek()
        if tokens[-1][0] != '\n' and token is not None and token[0] == '\n':
            tokens.append(self.next_token())
        return tokens

    def accumulate(self, tokens, cmd):
        tokens += cmd

    def parse(self, stop=None):
        self.stop.append(stop)
        tokens = []
        if not self.stop_at(self.peek()):
            while True:
                cmd = self.parse_cmd()
                if not cmd:
                    break
                self.accumulate(tokens, cmd)
                if self.stop_at(self.peek()):
                    break
        self.stop.pop()
        return tokens


def find_non_nl(tokens, n=None):
    if n is None:
        n = len(tokens) - 1
    while n >= 0 and tokens[n][0] == '\n':
        n -= 1
    return n


def ends_with(tokens, needles):
    n = find_non_nl(tokens)
    for needle in reversed(needles):
        if n < 0:
            return False
        if needle == '\n':
            n = find_non_nl(tokens, n)
            continue
        if not re.search(needle, tokens[n][0]):
            return False
        n -= 1
    return True


SAFE_ENDINGS = [
    [r'^(?:&&|\|\||\||&)$'],
    [r'^(?:exit|return)$', r'^(?:\d+|\$\?)$'],
    [r'^(?:exit|return)$', r'^(?:\d+|\$\?)$', r'^;$'],
    [r'^(?:exit|return|continue)$'],
    [r'^(?:exit|return|continue)$', r'^;$'],
]


class TestParser(ShellParser):
    """Parses one case body and records its problems."""

    def parse_loop_body(self):
        tokens = super().parse_loop_body()
        if not tokens or any(re.match(r'^(?:return|exit|\$\?)$', t[0])
                             for t in tokens):
            return tokens
        # a loop upstream of a pipe may end in "|| echo 'impossible text'"
        if ends_with(tokens, [r'^\|\|$', '\n', r'^echo$', r'^.+$']):
            return tokens
        n = find_non_nl(tokens)
        self.problems.append(['LOOPEXIT' if self.insubshell else 'LOOPRETURN',
                              tokens[n]])
        return tokens

    def accumulate(self, tokens, cmd):
        if (tokens and not (len(cmd) == 1 and cmd[0][0] == '\n') and
                not any(len([x for x in e if x != '\n']) <= len(tokens) and
                        ends_with(tokens, e) for e in SAFE_ENDINGS) and
                not any('$?' in t[0] for t in cmd)):
            if re.match(r'^(?:false|return|exit)$', cmd[0][0]):
                self.problems[:] = [p for p in self.problems if p[0] != 'AMP']
            else:
                n = find_non_nl(tokens)
                if n >= 0:
                    self.problems.append(['AMP', tokens[n]])
        tokens += cmd


def unwrap(token):
    """The text of a word once its quotes are removed."""
    s = token[0]
    m = re.match(r"^'([^']*)'$", s, re.S) or re.match(r'^"([^"]*)"$', s, re.S)
    if m:
        return m.group(1)
    out, q, i = '', None, 0
    while i < len(s):
        c = s[i]
        i += 1
        if q is not None and c == q:
            q = None
            continue
        if q is None and c in '\'"':
            q = c
            continue
        if c == '\\' and q != "'":
            if i >= len(s):
                break
            c = s[i]
            i += 1
            if c == '\n' or (q == '"' and c not in '$`"\\'):
                out += '\\'     # a line splice, or a literal backslash
        out += c
    return out


MESSAGES = {
    'AMP': "missing '&&'",
    'LOOPRETURN': "missing '|| return 1' in the loop body",
    'LOOPEXIT': "missing '|| exit 1' in the loop body",
    'HEREDOC': 'unclosed here-doc',
}


class ScriptParser(ShellParser):
    """Parses a whole test script and lints every case body it defines."""

    def __init__(self, text):
        super().__init__(text)
        self.found = []     # (line, kind, title)
        self.ncases = 0

    def check_test(self, title, body, herebody):
        lineno = body[3]
        text = unwrap(body)
        if text == '-' and herebody:
            text, lineno = herebody['content'], herebody['start_line']
        self.ncases += 1
        parser = TestParser(text)
        parser.parse()
        for kind, token in parser.problems:
            self.found.append((lineno + token[4] - 1, kind, unwrap(title)))

    def parse_cmd(self):
        tokens = super().parse_cmd()
        if not tokens or not re.match(r'^test_expect_(?:success|failure)$',
                                      tokens[0][0]):
            return tokens
        n = len(tokens) - 1
        while n >= 0 and SEPARATORS.match(tokens[n][0]):
            n -= 1
        herebody = None
        if n >= 2 and tokens[n - 1][0] == '-':
            m = re.match(r'^<<-?(.+)$', tokens[n][0])
            if m:
                herebody = self.heredocs.get(m.group(1))
                n -= 1
        if n == 2:
            self.check_test(tokens[1], tokens[2], herebody)
        elif n > 2:
            self.check_test(tokens[2], tokens[3], herebody)
        return tokens


def lint_file(path):
    """[(line, kind, title)] of the problems in a script's case bodies."""
    with open(path, encoding='utf-8', errors='surrogateescape') as f:
        parser = ScriptParser(f.read())
    parser.parse()
    found = parser.found
    for kind, token in parser.problems:     # here-docs of the script itself
        found.append((token[3], kind, ''))
    return sorted(found), parser.ncases


class Report:
    def __init__(self, tap):
        self.tap = tap
        self.n = 0
        self.failed = 0

    def ok(self, what):
        self.n += 1
        if self.tap:
            print(f'ok {self.n} - chainlint: {what}')

    def not_ok(self, what):
        self.n += 1
        self.failed += 1
        print(f'not ok {self.n} - chainlint: {what}' if self.tap else what)


def lint(paths, report):
    for path in paths:
        found, ncases = lint_file(path)
        for line, kind, title in found:
            report.not_ok(f"{path}:{line}: {MESSAGES[kind]}"
                          + (f" (case '{title}')" if title else ''))
        if not found:
            report.ok(f'{path} ({ncases} cases)')


ANNOTATION = re.compile(r'#LINT:([A-Z,]+)')


def self_test(directory, report):
    snippets = sorted(glob.glob(os.path.join(directory, '*.test')))
    if not snippets:
        report.not_ok(f'self-test: no {directory}/*.test')
    for path in snippets:
        want = []
        with open(path, encoding='utf-8') as f:
            for i, line in enumerate(f, 1):
                m = ANNOTATION.search(line)
                if m:
                    want += [(i, k) for k in m.group(1).split(',')]
        found, _ = lint_file(path)
        got = [(line, kind) for line, kind, _ in found]
        name = os.path.basename(path)
        if sorted(want) == sorted(got):
            report.ok(f'self-test {name}')
        else:
            report.not_ok(f'self-test {name}: expected {sorted(want)}, '
                          f'found {sorted(got)}')


def main(argv):
    args = argv[1:]
    report = Report(tap='--tap' in args)
    args = [a for a in args if a != '--tap']
    if args[:1] == ['--self-test'] and len(args) >= 2:
        self_test(args[1], report)
        args = args[2:]
    elif not args or args[0].startswith('-'):
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    lint(args, report)
    return 1 if report.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
