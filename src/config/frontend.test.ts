import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type ParsedFile, type Statement } from './ast.js';
import { decodeWord, lex, lexWithChevrotainOnly, Tok } from './lexer.js';
import { expandBraces, globFiles, segmentPattern } from './glob.js';
import { parseConfigFile, parseConfigText } from './parser.js';

/** One line per statement: `word@line:col ...`, `{@line:col` for a block, indented. */
function render(statements: Statement[], indent = ''): string[] {
  const out: string[] = [];
  for (const st of statements) {
    const words = [st.keyword, ...st.args].map((w) => `${w.quoted ? 'Q' : ''}${w.text}@${w.pos.line}:${w.pos.column}`).join(' ');
    if (st.block === null) {
      out.push(indent + words);
    } else {
      out.push(`${indent}${words} {@${st.blockOpen!.line}:${st.blockOpen!.column}`);
      out.push(...render(st.block, indent + '  '));
      out.push(indent + '}');
    }
  }
  return out;
}

/** Statements without positions: `kw arg arg` lines, blocks indented. */
function words(statements: Statement[], indent = ''): string[] {
  const out: string[] = [];
  for (const st of statements) {
    const line = indent + [st.keyword, ...st.args].map((w) => w.text).join(' ');
    if (st.block === null) out.push(line);
    else out.push(line + ' {', ...words(st.block, indent + '  '), indent + '}');
  }
  return out;
}

function diags(r: ParsedFile): string[] {
  return r.diagnostics.map((d) => `${formatDiagnostic(d)} [${d.code}]`);
}

const parse = (text: string, configId = 'main') => parseConfigText(text, 'k.conf', { configId, glob: () => [] });

describe('statements and blocks', () => {
  it('reads keywords, args and nested blocks with exact positions', () => {
    const r = parse(['vrrp_instance VI_1 {', '    state MASTER', '    virtual_ipaddress {', '        10.0.0.1/24 dev eth0', '    }', '}'].join('\n'));
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual([
      'vrrp_instance@1:1 VI_1@1:15 {@1:20',
      '  state@2:5 MASTER@2:11',
      '  virtual_ipaddress@3:5 {@3:23',
      '    10.0.0.1/24@4:9 dev@4:21 eth0@4:25',
      '  }',
      '}',
    ]);
    expect(r.statements[0]!.pos).toEqual({ file: 'k.conf', line: 1, column: 1 });
    expect(r.files).toEqual(['k.conf']);
  });

  it('takes a { on the next line (after blank and comment lines) as the block of the previous statement', () => {
    const r = parse('global_defs\n\n# why\n{\n  router_id r1\n}\n');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['global_defs@1:1 {@4:1', '  router_id@5:3 r1@5:13', '}']);
  });

  it('closes several blocks with }} and handles braces attached to words', () => {
    const r = parse('virtual_server 1.2.3.4 80{\n  real_server 10.0.0.1 80{\n    weight 2}}\nnext_one');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual([
      'virtual_server@1:1 1.2.3.4@1:16 80@1:24 {@1:26',
      '  real_server@2:3 10.0.0.1@2:15 80@2:24 {@2:26',
      '    weight@3:5 2@3:12',
      '  }',
      '}',
      'next_one@4:1',
    ]);
  });

  it('turns a single-line block into one statement of its words', () => {
    const r = parse('virtual_ipaddress { 10.0.0.1/24 }\ngroup { VI_1 VI_2 }\nx {}');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual([
      'virtual_ipaddress@1:1 {@1:19',
      '  10.0.0.1/24@1:21',
      '}',
      'group@2:1 {@2:7',
      '  VI_1@2:9 VI_2@2:14',
      '}',
      'x@3:1 {@3:3',
      '}',
    ]);
  });

  it('starts a new statement after { or } on the same line', () => {
    const r = parse('a { b c } d e\n');
    expect(render(r.statements)).toEqual(['a@1:1 {@1:3', '  b@1:5 c@1:7', '}', 'd@1:11 e@1:13']);
  });

  it('ignores a UTF-8 byte order mark', () => {
    const r = parse('\uFEFFglobal_defs {\n}\n');
    expect(render(r.statements)).toEqual(['global_defs@1:2 {@1:14', '}']);
  });

  it('handles CRLF line ends and tabs', () => {
    const r = parse('global_defs {\r\n\trouter_id\tr1\r\n}\r\n');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['global_defs@1:1 {@1:13', '  router_id@2:2 r1@2:12', '}']);
  });
});

describe('comments and quoting', () => {
  it('skips # and ! comments anywhere on a line, but not inside quotes', () => {
    const r = parse('# full line\n! bang line\nkey v1 # trailing\nkey2 v2!x\nnotify "/bin/a #1 !2 {x}" \'b # c\'\n');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['key@3:1 v1@3:5', 'key2@4:1 v2@4:6', 'notify@5:1 Q/bin/a #1 !2 {x}@5:8 Qb # c@5:27']);
  });

  it('joins quoted parts of one word and resolves escapes', () => {
    const r = parse('k abcd" efg h "mnop "say \\"hi\\"" \\#lit a\\ b x\\d\n');
    expect(diags(r)).toEqual([]);
    expect(r.statements[0]!.args.map((w) => [w.text, w.quoted])).toEqual([
      ['abcd efg h mnop', true],
      ['say "hi"', true],
      ['#lit', false],
      ['a b', false],
      ['x\\d', false],
    ]);
  });

  it('reports an unterminated quote at the opening quote and keeps the rest of the line', () => {
    const r = parse('vrrp_instance VI_1 {\n  notify "/bin/x arg # not a comment\n}\n');
    expect(diags(r)).toEqual(['k.conf:2:10: error: unterminated quote: no closing " before the end of the line [unterminated-quote]']);
    expect(r.statements[0]!.block![0]!.args[0]!.text).toBe('/bin/x arg # not a comment');
    expect(r.statements[0]!.block).toHaveLength(1);
  });

  it('decodeWord keeps unknown escapes and reports the open quote offset', () => {
    expect(decodeWord('plain')).toEqual({ text: 'plain', quoted: false, unterminatedAt: -1 });
    expect(decodeWord("'it''s'")).toEqual({ text: 'its', quoted: true, unterminatedAt: -1 });
    expect(decodeWord('ab"cd')).toEqual({ text: 'abcd', quoted: true, unterminatedAt: 2 });
    expect(decodeWord('"a\\nb"')).toEqual({ text: 'a\\nb', quoted: true, unterminatedAt: -1 });
  });
});

describe('brace errors', () => {
  it('reports an unclosed { at its own position, naming the block', () => {
    const r = parse('global_defs {\n}\nvrrp_instance VI_1 {\n  state MASTER\n  virtual_ipaddress {\n    10.0.0.1\n  }\n');
    expect(diags(r)).toEqual(["k.conf:3:20: error: block 'vrrp_instance VI_1' opened here is never closed [unclosed-brace]"]);
    // the statements read so far are kept
    expect(words(r.statements)).toEqual(['global_defs {', '}', 'vrrp_instance VI_1 {', '  state MASTER', '  virtual_ipaddress {', '    10.0.0.1', '  }', '}']);
  });

  it('reports every unclosed block, innermost first', () => {
    const r = parse('a {\n  b {\n    c {\n');
    expect(diags(r)).toEqual([
      "k.conf:3:7: error: block 'c' opened here is never closed [unclosed-brace]",
      "k.conf:2:5: error: block 'b' opened here is never closed [unclosed-brace]",
      "k.conf:1:3: error: block 'a' opened here is never closed [unclosed-brace]",
    ]);
  });

  it('points at the block whose } went missing when the indentation shows it', () => {
    const r = parse(
      [
        'vrrp_instance VI_1 {',
        '    state MASTER',
        '    virtual_ipaddress {',
        '        10.0.0.1/24',
        '    priority 100',
        '}',
        'virtual_server 1.2.3.4 80 {',
        '}',
      ].join('\n'),
    );
    expect(diags(r)).toEqual([
      "k.conf:1:20: error: block 'vrrp_instance VI_1' opened here is never closed; the indentation suggests block " +
        "'virtual_ipaddress' (opened at 3:23) lacks its '}' before line 5 [unclosed-brace]",
    ]);
  });

  it('gives no indentation hint for a config without indentation', () => {
    const r = parse('a {\nb {\nc 1\n}\n');
    expect(diags(r)).toEqual(["k.conf:1:3: error: block 'a' opened here is never closed [unclosed-brace]"]);
  });

  it('reports a stray } at its position and goes on', () => {
    const r = parse('a {\n}\n  }\nb 1\n}}');
    expect(diags(r)).toEqual([
      "k.conf:3:3: error: '}' without a matching '{' [unexpected-close-brace]",
      "k.conf:5:1: error: '}' without a matching '{' [unexpected-close-brace]",
      "k.conf:5:2: error: '}' without a matching '{' [unexpected-close-brace]",
    ]);
    expect(words(r.statements)).toEqual(['a {', '}', 'b 1']);
  });

  it('reports a { with no keyword and keeps its content at the enclosing level', () => {
    const r = parse('a {\n}\n{\n  b 1\n}\nc\n');
    expect(diags(r)).toEqual(["k.conf:3:1: error: '{' without a keyword to open a block for [unexpected-open-brace]"]);
    expect(words(r.statements)).toEqual(['a {', '}', 'b 1', 'c']);
  });

  it('keeps the content of a keyword-less { inside the block it appears in', () => {
    const r = parse('a {\n  x {\n  } {\n    y 2\n  }\n  z 3\n}\nw\n');
    expect(diags(r)).toEqual(["k.conf:3:5: error: '{' without a keyword to open a block for [unexpected-open-brace]"]);
    expect(words(r.statements)).toEqual(['a {', '  x {', '  }', '  y 2', '  z 3', '}', 'w']);
  });

  it('reports all errors of a file in one pass', () => {
    const r = parse('x "open\n}\na {\n$UNDEF\n');
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual(['macro-undefined', 'unclosed-brace', 'unexpected-close-brace', 'unterminated-quote'].sort());
  });
});

describe('macros', () => {
  it('expands $NAME and ${NAME}, recursively at use time, positions at the use site', () => {
    const r = parse(['$BASE=10.2.${SUB}', '$SUB=0', 'ip ${BASE}.100/32', '$SUB=10', 'ip ${BASE}.100/32 $SUB', 'k "in ${SUB} quotes"'].join('\n'));
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['ip@3:1 10.2.0.100/32@3:4', 'ip@5:1 10.2.10.100/32@5:4 10@5:19', 'k@6:1 Qin 10 quotes@6:3']);
  });

  it('keeps positions of the words after an expansion', () => {
    const r = parse('$P=one two three\nk $P after');
    expect(render(r.statements)).toEqual(['k@2:1 one@2:3 two@2:3 three@2:3 after@2:6']);
  });

  it('reports an undefined macro at its position (error unquoted, warning in quotes)', () => {
    const r = parse('priority $PRIO\nnotify "/bin/x ${WHO}"\n');
    expect(diags(r)).toEqual([
      "k.conf:1:10: error: macro 'PRIO' is not defined [macro-undefined]",
      "k.conf:2:16: warning: macro 'WHO' is not defined; kept as written inside quotes [macro-undefined]",
    ]);
    expect(r.statements[0]!.args[0]!.text).toBe('$PRIO');
  });

  it('leaves $ that is not a reference alone, and warns about $NAME glued to text', () => {
    const r = parse('$A=x\nscript "kill -0 $(cat /run/p)" $1 a$ $A/24 \\$A');
    expect(diags(r)).toEqual(["k.conf:2:38: warning: '$A' is followed by '/' so it is not expanded; write ${A} [macro-not-expanded]"]);
    expect(r.statements[0]!.args.map((w) => w.text)).toEqual(['kill -0 $(cat /run/p)', '$1', 'a$', '$A/24', '$A']);
  });

  it('expands multi-line definitions into several lines at the use site', () => {
    const r = parse(
      [
        '$INST= \\',
        '  vrrp_instance VI_${N} { \\',
        '    virtual_router_id ${N} \\',
        '    @main priority 130 \\',
        '    @backup priority 120 \\',
        '  }',
        '',
        '$N=1',
        '$INST',
        '$N=2',
        '  $INST',
      ].join('\n'),
    );
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual([
      'vrrp_instance@9:1 VI_1@9:1 {@9:1',
      '  virtual_router_id@9:1 1@9:1',
      '  priority@9:1 130@9:1',
      '}',
      'vrrp_instance@11:3 VI_2@11:3 {@11:3',
      '  virtual_router_id@11:3 2@11:3',
      '  priority@11:3 130@11:3',
      '}',
    ]);
  });

  it('nests multi-line definitions that set parameters between uses', () => {
    const r = parse(
      [
        '$RS= \\',
        'real_server 192.168.${VS}.${RS_NUM} 80 { \\',
        '  weight 1 \\',
        '}',
        '$VS_BLOCK= \\',
        'virtual_server 10.0.${VS}.4 80 { \\',
        '  $RS_NUM=1 \\',
        '  $RS \\',
        '  $RS_NUM=2 \\',
        '  $RS \\',
        '}',
        '$VS=7',
        '$VS_BLOCK',
      ].join('\n'),
    );
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual([
      'virtual_server 10.0.7.4 80 {',
      '  real_server 192.168.7.1 80 {',
      '    weight 1',
      '  }',
      '  real_server 192.168.7.2 80 {',
      '    weight 1',
      '  }',
      '}',
    ]);
  });

  it('ends a multi-line definition at a line without \\ and at a blank line', () => {
    const r = parse('$A= \\\n  x 1 \\\n\ny 2\n$A\n');
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual(['y 2', 'x 1']);
  });

  it('rejects bad definitions with a reason', () => {
    const r = parse('$1X=a\n$A =b\n${B}=c\n$C.D=1\n');
    expect(diags(r)).toEqual([
      "k.conf:1:2: error: invalid macro name '1X': use letters, digits and _, not starting with a digit [macro-definition]",
      "k.conf:2:3: error: no blank allowed between macro name 'A' and '=' [macro-definition]",
      'k.conf:3:1: error: a macro definition is written $NAME=value, without braces [macro-definition]',
      "k.conf:4:2: error: invalid macro name 'C.D': use letters, digits and _, not starting with a digit [macro-definition]",
    ]);
    expect(r.statements).toEqual([]);
  });

  it('stops a recursive definition with an error instead of hanging', () => {
    const r = parse('$A=x $A\nk $A\n$M= \\\n$M\n\n$M\n');
    expect(r.diagnostics.map((d) => d.code)).toContain('macro-recursion');
    expect(r.diagnostics.every((d) => d.pos.line >= 1 && d.pos.column >= 1)).toBe(true);
  });

  it('rejects a multi-line macro that is not last on its line', () => {
    const r = parse('$M= \\\na\\\nb\nk $M tail\n');
    expect(diags(r)).toEqual(["k.conf:4:3: error: multi-line macro 'M' must be the last thing on its line [macro-multiline]"]);
  });

  it('provides _INSTANCE, _PWD, _HASH, _BANG and _RANDOM', () => {
    const r = parseConfigText('k ${_INSTANCE} ${_PWD} ${_HASH}x ${_BANG} ${_RANDOM 5 5}\n', '/etc/keepalived/k.conf', {
      configId: 'node7',
    });
    expect(diags(r)).toEqual([]);
    expect(r.statements[0]!.args.map((w) => w.text)).toEqual(['node7', '/etc/keepalived', '#x', '!', '5']);
  });

  it('keeps # and ! produced by macros literal in multi-line expansions', () => {
    const r = parse('$M= \\\na ${_HASH}1 \\\nb "q # r" ${_BANG} \'s ! t\'\n$M\n');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['a@4:1 #1@4:1', 'b@4:1 Qq # r@4:1 !@4:1 Qs ! t@4:1']);
  });

  it('lets a macro expand to a conditional line', () => {
    const text = '$IF_MAIN=@main\n$IF_MAIN priority 240\n';
    expect(words(parse(text, 'main').statements)).toEqual(['priority 240']);
    expect(words(parse(text, 'backup').statements)).toEqual([]);
  });
});

describe('conditionals', () => {
  const text = [
    'global_defs {',
    '  @main   router_id main_router',
    '  @backup router_id backup_router',
    '}',
    'unicast_peer {',
    '  @^main    1.2.3.4',
    '  @^backup  1.2.3.5',
    '}',
    '@main $PRIO=240',
    '@backup $PRIO=200',
    'priority $PRIO',
  ].join('\n');

  it('keeps @ID lines for that id and drops @^ID lines', () => {
    const r = parse(text, 'main');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual([
      'global_defs@1:1 {@1:13',
      '  router_id@2:11 main_router@2:21',
      '}',
      'unicast_peer@5:1 {@5:14',
      '  1.2.3.5@7:13',
      '}',
      'priority@11:1 240@11:10',
    ]);
  });

  it('drops @ID lines for other ids', () => {
    const r = parse(text, 'other');
    expect(words(r.statements)).toEqual(['global_defs {', '}', 'unicast_peer {', '  1.2.3.4', '  1.2.3.5', '}', 'priority $PRIO']);
    expect(diags(r)).toEqual(["k.conf:11:10: error: macro 'PRIO' is not defined [macro-undefined]"]);
  });

  it('defaults the config id to the short host name', () => {
    const id = os.hostname().split('.')[0]!;
    const r = parseConfigText(`@${id} k yes\n@^${id} k no\n`, 'k.conf');
    expect(words(r.statements)).toEqual(['k yes']);
  });

  it('reports a conditional with nothing after it', () => {
    const r = parse('@main\n@ x\n');
    expect(diags(r)).toEqual([
      "k.conf:1:1: warning: conditional '@main' has nothing after the config id [conditional-syntax]",
      "k.conf:2:1: error: '@' must be followed directly by a config id [conditional-syntax]",
    ]);
  });
});

describe('~SEQ and ~LST', () => {
  it('repeats the rest of the line for each value, positions after the ~SEQ(...)', () => {
    const r = parse('virtual_ipaddress {\n  ~SEQ(SUBNET, 0, 3) 10.0.${SUBNET}.1\n}\n');
    expect(diags(r)).toEqual([]);
    expect(render(r.statements)).toEqual(['virtual_ipaddress@1:1 {@1:19', '  10.0.0.1@2:22', '  10.0.1.1@2:22', '  10.0.2.1@2:22', '  10.0.3.1@2:22', '}']);
  });

  it('supports (var,end), (var,start,end), steps down, hex, and nesting', () => {
    const vals = (text: string) => parse(text).statements.map((s) => s.args.map((w) => w.text).join(' '));
    expect(vals('~SEQ(i,3) k $i')).toEqual(['1', '2', '3']);
    expect(vals('~SEQ(i,-2) k $i')).toEqual(['-1', '-2']);
    expect(vals('~SEQ(i,5,3) k $i')).toEqual(['5', '4', '3']);
    expect(vals('~SEQ(i, 10, -5, 0) k $i')).toEqual(['10', '5', '0']);
    expect(vals('~SEQx(S, 0x90, 0x10, 0xc0) k fe80::${S}:1')).toEqual(['fe80::90:1', 'fe80::a0:1', 'fe80::b0:1', 'fe80::c0:1']);
    expect(vals('~SEQ(a,1,2) ~SEQ(b,1,2) k ${a}.${b}')).toEqual(['1.1', '1.2', '2.1', '2.2']);
    expect(vals('$N=2\n~SEQ(i,${N}) k $i')).toEqual(['1', '2']);
  });

  it('repeats a multi-line macro', () => {
    const r = parse('$B= \\\nblk ${i} { \\\n  x $i \\\n}\n~SEQ(i,2) $B\n');
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual(['blk 1 {', '  x 1', '}', 'blk 2 {', '  x 2', '}']);
  });

  it('supports ~LST with one or several variables', () => {
    const vals = (text: string) => parse(text).statements.map((s) => s.args.map((w) => w.text).join(' '));
    expect(vals('~LST(IP, 1, 2, 3) k 10.0.0.${IP}')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(vals('~LST({IP, IP1}, {10,1},{20,4}) k 192.168.${IP}.${IP1}')).toEqual(['192.168.10.1', '192.168.20.4']);
  });

  it('reports invalid sequences at the ~', () => {
    const r = parse('  ~SEQ(i, 1, -1, 5) k\n~SEQ(i, x) k\n~SEQ(i\n~LST({a,b}, {1}) k\n');
    expect(diags(r)).toEqual([
      'k.conf:1:3: error: invalid ~SEQ(i, 1, -1, 5): the step is zero or goes away from the end [seq-syntax]',
      "k.conf:2:1: error: invalid ~SEQ(i, x): 'x' is not an integer [seq-syntax]",
      "k.conf:3:1: error: invalid sequence '~SEQ(i': expected ~SEQ(var, start, step, end), ~SEQx(...) or ~LST(var, values...) [seq-syntax]",
      "k.conf:4:1: error: invalid ~LST({a,b}, {1}): '{1}' has 1 values for 2 variables [seq-syntax]",
    ]);
    expect(r.statements).toEqual([]);
  });
});

describe('include (real files)', () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kats-frontend-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('includes files in place, nested, relative to the including file, with their own positions', () => {
    const main = write('nest/keepalived.conf', 'global_defs {\n  include defs/global.conf\n}\ninclude vs/*.conf\nend_marker\n');
    write('nest/defs/global.conf', '# global bits\nrouter_id r1\ninclude ../more/x.conf\n');
    write('nest/more/x.conf', '  notification_email_from a@b\n');
    write('nest/vs/b.conf', 'virtual_server 10.0.0.2 80 {\n}\n');
    write('nest/vs/a.conf', 'virtual_server 10.0.0.1 80 {\n}\n');
    write('nest/vs/.hidden.conf', 'hidden\n');
    fs.mkdirSync(path.join(dir, 'nest/vs/dir.conf'));
    const r = parseConfigFile(main, { configId: 'x' });
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual([
      'global_defs {',
      '  router_id r1',
      '  notification_email_from a@b',
      '}',
      'virtual_server 10.0.0.1 80 {',
      '}',
      'virtual_server 10.0.0.2 80 {',
      '}',
      'end_marker',
    ]);
    const gd = r.statements[0]!.block!;
    expect(gd[0]!.pos).toEqual({ file: path.join(dir, 'nest/defs/global.conf'), line: 2, column: 1 });
    expect(gd[1]!.pos).toEqual({ file: path.join(dir, 'nest/more/x.conf'), line: 1, column: 3 });
    expect(r.statements[1]!.blockOpen).toEqual({ file: path.join(dir, 'nest/vs/a.conf'), line: 1, column: 28 });
    expect(r.statements[3]!.pos).toEqual({ file: main, line: 5, column: 1 });
    expect(r.files).toEqual([
      main,
      path.join(dir, 'nest/defs/global.conf'),
      path.join(dir, 'nest/more/x.conf'),
      path.join(dir, 'nest/vs/a.conf'),
      path.join(dir, 'nest/vs/b.conf'),
    ]);
  });

  it('matches ?, [..] and {a,b} patterns in sorted order', () => {
    write('g/p1.conf', 'one\n');
    write('g/p2.conf', 'two\n');
    write('g/p3.conf', 'three\n');
    write('g/q.conf', 'q\n');
    const main = write('g/main.conf', 'include p?.conf\ninclude p[13].conf\ninclude {q,p2}.conf\n');
    const r = parseConfigFile(main);
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual(['one', 'two', 'three', 'one', 'three', 'q', 'two']);
  });

  it('warns when an include matches nothing, and goes on', () => {
    const main = write('nomatch/main.conf', 'a\ninclude missing/*.conf\ninclude "/nonexistent/file.conf"\nb\n');
    const r = parseConfigFile(main);
    expect(diags(r)).toEqual([
      `${main}:2:1: warning: include 'missing/*.conf' matches no file [include-no-match]`,
      `${main}:3:1: warning: include '/nonexistent/file.conf' matches no file [include-no-match]`,
    ]);
    expect(words(r.statements)).toEqual(['a', 'b']);
  });

  it('reports a file including itself', () => {
    const main = write('self/main.conf', 'a\ninclude main.conf\nb\n');
    const r = parseConfigFile(main);
    expect(diags(r)).toEqual([`${main}:2:1: error: include cycle: ${main} -> ${path.join(dir, 'self/main.conf')} [include-cycle]`]);
    expect(words(r.statements)).toEqual(['a', 'b']);
  });

  it('reports an include cycle naming the chain, at the include that closes it', () => {
    const main = write('cyc/main.conf', 'include sub/a.conf\n');
    const a = write('cyc/sub/a.conf', 'from_a\ninclude b.conf\n');
    write('cyc/sub/b.conf', 'from_b\n  include ../sub/a.conf\n');
    const r = parseConfigFile(main);
    const b = path.join(dir, 'cyc/sub/b.conf');
    expect(diags(r)).toEqual([`${b}:2:3: error: include cycle: ${a} -> ${b} -> ${path.join(dir, 'cyc/sub/../sub/a.conf')} [include-cycle]`]);
    expect(words(r.statements)).toEqual(['from_a', 'from_b']);
  });

  it('shares macros across included files and sets _PWD per file', () => {
    const main = write('mac/main.conf', 'include defs.conf\nk $X ${_PWD}\ninclude sub/s.conf\n');
    write('mac/defs.conf', '$X=from_defs\n');
    write('mac/sub/s.conf', 'k ${_PWD}\n');
    const r = parseConfigFile(main);
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual([`k from_defs ${path.join(dir, 'mac')}`, `k ${path.join(dir, 'mac/sub')}`]);
  });

  it('rejects include without exactly one pattern and after a brace', () => {
    const r = parse('include\ninclude a b\nx { include y }\n');
    expect(diags(r)).toEqual([
      "k.conf:1:1: error: 'include' takes exactly one file name or pattern, got 0 [include-syntax]",
      "k.conf:2:1: error: 'include' takes exactly one file name or pattern, got 2 [include-syntax]",
      "k.conf:3:5: error: 'include' must start its own line (after a brace it is not read as an include) [include-position]",
    ]);
  });

  it('reports a missing main file at path:1:1 without throwing', () => {
    const p = path.join(dir, 'does-not-exist.conf');
    const r = parseConfigFile(p);
    expect(r.statements).toEqual([]);
    expect(r.files).toEqual([p]);
    expect(diags(r)).toEqual([`${p}:1:1: error: cannot read configuration file: ENOENT [file-unreadable]`]);
  });

  it('uses injected readFile and glob', () => {
    const files: Record<string, string> = { '/v/main.conf': 'include x/*.conf\n', '/v/x/1.conf': 'virtual 1\n' };
    const r = parseConfigFile('/v/main.conf', {
      readFile: (p) => {
        const t = files[p];
        if (t === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
        return t;
      },
      glob: (pattern, cwd) => (pattern === 'x/*.conf' && cwd === '/v' ? ['x/1.conf'] : []),
    });
    expect(diags(r)).toEqual([]);
    expect(words(r.statements)).toEqual(['virtual 1']);
    expect(r.files).toEqual(['/v/main.conf', '/v/x/1.conf']);
  });
});

describe('glob helpers', () => {
  it('expands csh braces, nested and literal', () => {
    expect(expandBraces('{foo/{,cat,dog},bar}')).toEqual(['foo/', 'foo/cat', 'foo/dog', 'bar']);
    expect(expandBraces('a{x}b')).toEqual(['a{x}b']);
    expect(expandBraces('plain')).toEqual(['plain']);
  });

  it('translates * ? [..] [!..] per path component', () => {
    expect(segmentPattern('*.conf').test('a.conf')).toBe(true);
    expect(segmentPattern('*.conf').test('a.confx')).toBe(false);
    expect(segmentPattern('p?.c').test('p1.c')).toBe(true);
    expect(segmentPattern('[!a]x').test('ax')).toBe(false);
    expect(segmentPattern('[!a]x').test('bx')).toBe(true);
    expect(segmentPattern('a+(b)').test('a+(b)')).toBe(true);
  });

  it('globFiles returns [] for a missing directory', () => {
    expect(globFiles('/nonexistent-dir-kats/*.conf', '/')).toEqual([]);
  });
});

describe('lexer fast path agrees with chevrotain', () => {
  it('gives the same tokens on plain lines as the chevrotain lexer', () => {
    const text = 'a b{c}d\n\t x  # comment "q"\n}}{{\n! bang\nvrrp_instance VI_1 {\r\n  state MASTER\n}\n\n';
    const a = lex(text);
    const b = lexWithChevrotainOnly(text);
    const dump = (t: ReturnType<typeof lex>) => Array.from({ length: t.count }, (_, i) => `${t.kind[i]}:${t.start[i]}-${t.end[i]}`);
    expect(dump(a)).toEqual(dump(b));
    expect(a.kind[0]).toBe(Tok.PlainWord);
  });

  it('hands lines with quotes and escapes to chevrotain', () => {
    const text = 'plain line\nk "a b" c\\ d\nx';
    const t = lex(text);
    const images = Array.from({ length: t.count }, (_, i) => text.slice(t.start[i], t.end[i]));
    expect(images).toEqual(['plain', 'line', '\n', 'k', '"a b"', 'c\\ d', '\n', 'x']);
  });
});
