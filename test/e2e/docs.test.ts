import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../helpers/run-cli.js';

// The documentation is a map a newcomer follows: a dead link, a page nobody links to, or a CLI
// option the reference forgot sends them astray, so each is a failing test.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = join(ROOT, 'README.md');
const CLI_DOC = join(ROOT, 'docs', 'cli.md');
const README_MAX_BYTES = 12_500;

function markdownUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const DOC_PAGES = markdownUnder(join(ROOT, 'docs'));
const CHECKED_FILES = [README, join(ROOT, 'CONTRIBUTING.md'), ...DOC_PAGES];

/** The lines of a Markdown file outside fenced code blocks (a link or heading in a code sample is not one). */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function headingSlugs(text: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const plain = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(plain) ?? 0;
    seen.set(plain, count + 1);
    slugs.add(count === 0 ? plain : `${plain}-${count}`);
  }
  return slugs;
}

/** Link targets of a Markdown file, outside code blocks and inline code. */
function linkTargets(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) targets.push(match[1]!);
  }
  return targets;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** The broken relative links of one file, as "file: target (why)". */
function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(readFileSync(file, 'utf8'))) {
    if (isExternal(target)) continue;
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(ROOT, file)}: ${target}`;
    if (!existsSync(resolved)) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || !resolved.endsWith('.md')) continue;
    if (!headingSlugs(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${where} (no such heading)`);
  }
  return broken;
}

interface CommandInfo {
  path: string;
  options: string[];
}

/**
 * Every command and its long options, from the real program: buildProgram() walked in a child process,
 * since importing the CLI runs it (with --version here, which prints the version and nothing else).
 */
function cliCommands(): CommandInfo[] {
  const script = `
    process.argv = [process.execPath, 'credport', '--version'];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = () => true;
    const { buildProgram } = await import(${JSON.stringify(CLI)});
    process.stdout.write = write;
    const walk = (command, path) => [
      { path, options: command.options.map((option) => option.long).filter(Boolean) },
      ...command.commands.flatMap((sub) => walk(sub, path + ' ' + sub.name())),
    ];
    write(JSON.stringify(walk(buildProgram(), 'credport')));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
  });
  return JSON.parse(out) as CommandInfo[];
}

/** The section of docs/cli.md whose heading is `credport <command>`, up to the next heading as high or higher. */
function commandSection(doc: string, path: string): string | undefined {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    return heading !== null && heading[2]!.replace(/`/g, '').trim() === path;
  });
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((line, i) => i > start && /^#+\s/.test(line) && /^#+/.exec(line)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

const mentions = (text: string, flag: string) => new RegExp(`${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(text);

describe('the documentation', () => {
  it('has only relative links that resolve to a file, and anchors that name a heading of it', () => {
    expect(CHECKED_FILES.flatMap(brokenLinks)).toEqual([]);
  });

  it('links every page of docs/ from the README', () => {
    const linked = new Set(
      linkTargets(readFileSync(README, 'utf8'))
        .filter((target) => !isExternal(target))
        .map((target) => resolve(ROOT, target.split('#')[0]!)),
    );
    expect(DOC_PAGES.filter((page) => !linked.has(page)).map((page) => relative(ROOT, page))).toEqual([]);
  });

  it('keeps the README short: at most 12,500 bytes', () => {
    expect(statSync(README).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it('names every CLI command in docs/cli.md, each with a section listing every option --help lists', () => {
    const doc = readFileSync(CLI_DOC, 'utf8');
    const commands = cliCommands();
    expect(commands.length).toBeGreaterThan(30);
    const missing: string[] = [];
    for (const { path, options } of commands) {
      const section = commandSection(doc, path);
      if (section === undefined) {
        missing.push(`${path} (no section)`);
        continue;
      }
      for (const flag of options) if (!mentions(section, flag)) missing.push(`${path} ${flag}`);
    }
    expect(missing).toEqual([]);
  });

  it('lists every environment variable the code reads in docs/configuration.md', () => {
    const table = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const read = new Set<string>();
    const scan = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) scan(path);
        else if (/\.(ts|js|mjs|cjs)$/.test(name)) {
          for (const match of readFileSync(path, 'utf8').matchAll(/env(?:\.|\[')(CREDPORT_[A-Z0-9_]+)/g)) read.add(match[1]!);
        }
      }
    };
    scan(join(ROOT, 'src'));
    scan(join(ROOT, 'test'));
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !mentions(table, `\`${name}\``))).toEqual([]);
  });
});
