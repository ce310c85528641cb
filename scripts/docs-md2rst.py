# Copyright (c) 2026, ganeti.rapi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn one of the collection's Markdown pages into an antsibull-docs extra docs page (make docs).

    python scripts/docs-md2rst.py COLLECTION_DIR docs/failures.md failures "Reference" [--title T --missing TEXT]

reads COLLECTION_DIR/docs/failures.md, writes COLLECTION_DIR/docs/docsite/rst/failures.rst with the label
ansible_collections.<namespace>.<name>.docsite.failures, and adds "failures" to the section "Reference" of
COLLECTION_DIR/docs/docsite/extra-docs.yml. The Markdown file stays the one source of truth; scripts/docs.sh runs
this on its copy of the tree only. When the Markdown file does not exist, the page has the title given with
--title and the text given with --missing.

The Markdown subset understood is what the project's pages use: ATX and setext headings, paragraphs, fenced code
blocks, bullet and ordered lists (nested), pipe tables, block quotes, and inline code, bold, italics, links and
backslash escapes. Anything else comes out as escaped text; antsibull-docs lint and Sphinx check the result.
"""

import argparse
import os
import re
import sys

import yaml

ADORNMENTS = ['=', '-', '~', '^', '"', "'"]
FENCE = re.compile(r'^(\s*)(`{3,}|~{3,})\s*([\w+.-]*)')
ATX = re.compile(r'^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$')
SETEXT = re.compile(r'^\s{0,3}(=+|-+)\s*$')
BULLET = re.compile(r'^(\s*)([-*+])(\s+)(.*)$')
ORDERED = re.compile(r'^(\s*)(\d{1,9})([.)])(\s+)(.*)$')
TABLE_RULE = re.compile(r'^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$')
RULE = re.compile(r'^\s{0,3}([-*_])(\s*\1){2,}\s*$')
HTML_COMMENT = re.compile(r'^\s*<!--.*-->\s*$')

# Inline Markdown, tried in this order at each position.
INLINE = re.compile(
    r'(?P<code>(?P<ticks>`+)(?P<code_text>.+?)(?P=ticks))'
    r'|(?P<image>!\[(?P<image_alt>[^\]]*)\]\((?P<image_url>[^)\s]+)(?:\s+"[^"]*")?\))'
    r'|(?P<link>\[(?P<link_text>[^\]]+)\]\((?P<link_url>[^)\s]+)(?:\s+"[^"]*")?\))'
    r'|(?P<autolink><(?P<autolink_url>https?://[^>\s]+)>)'
    r'|(?P<strong>\*\*(?P<strong_text>(?!\s).+?(?<!\s))\*\*|(?<!\w)__(?P<strong_text2>(?!\s).+?(?<!\s))__(?!\w))'
    r'|(?P<em>\*(?P<em_text>(?![\s*]).*?(?<![\s\\]))\*(?!\*)|(?<!\w)_(?P<em_text2>(?![\s_]).*?(?<!\s))_(?!\w))'
    r'|(?P<escape>\\(?P<escaped>[!-/:-@\[-`{-~]))'
)
# rst inline markup must be preceded and followed by whitespace or one of these, else "\ " separates it.
BEFORE_OK = set(' \t\n-:/\'"<([{')
AFTER_OK = set(' \t\n-.,:;!?\\/\'")]}>')


def escape_text(text):
    """Plain text as rst that shows exactly this text."""
    text = text.replace('\\', '\\\\')
    text = re.sub(r'([*`|])', r'\\\1', text)
    return re.sub(r'_(?=\W|$)', r'\\_', text)


def strip_markdown(text):
    """Text of inline Markdown without its markup (for places where rst cannot nest markup)."""
    def plain(match):
        for group in ('code_text', 'image_alt', 'link_text', 'autolink_url', 'strong_text', 'strong_text2',
                      'em_text', 'em_text2', 'escaped'):
            if match.group(group) is not None:
                return match.group(group) if group in ('code_text', 'escaped') else strip_markdown(match.group(group))
        return match.group(0)
    return INLINE.sub(plain, text)


def literal(text):
    """A Markdown code span's text as an rst inline literal."""
    if len(text) > 2 and text.startswith(' ') and text.endswith(' ') and text.strip():
        text = text[1:-1]
    if '``' in text or text.startswith('`') or text.endswith('`') or text != text.strip():
        return ':literal:`%s`' % text.replace('\\', '\\\\').replace('`', '\\`')
    return '``%s``' % text


def link(text, url):
    if re.match(r'^(https?|mailto|ftp):', url):
        return '`%s <%s>`__' % (escape_text(text).replace('<', '\\<'), url)
    return None  # a path relative to the Markdown file: it does not exist on the site


def inline(text):
    """Convert a paragraph's inline Markdown to rst."""
    parts = []  # (is_markup, rst)
    pos = 0
    for match in INLINE.finditer(text):
        if match.start() > pos:
            parts.append((False, escape_text(text[pos:match.start()])))
        pos = match.end()
        kind = next(name for name in ('code', 'image', 'link', 'autolink', 'strong', 'em', 'escape')
                    if match.group(name) is not None)
        if kind == 'code':
            parts.append((True, literal(match.group('code_text'))))
        elif kind == 'image':
            parts.append((False, escape_text(match.group('image_alt'))))
        elif kind == 'link':
            rst = link(strip_markdown(match.group('link_text')), match.group('link_url'))
            parts.append((True, inline(match.group('link_text')) if rst is None else rst))
        elif kind == 'autolink':
            parts.append((True, '`%s <%s>`__' % (match.group('autolink_url'), match.group('autolink_url'))))
        elif kind == 'strong':
            inner = match.group('strong_text') or match.group('strong_text2')
            parts.append((True, '**%s**' % escape_text(strip_markdown(inner))))
        elif kind == 'em':
            inner = match.group('em_text') or match.group('em_text2')
            parts.append((True, '*%s*' % escape_text(strip_markdown(inner))))
        else:
            parts.append((False, escape_text(match.group('escaped'))))
    if pos < len(text):
        parts.append((False, escape_text(text[pos:])))
    return join_parts(parts)


def join_parts(parts):
    out = ''
    for index, (markup, rst) in enumerate(parts):
        if markup and out and out[-1] not in BEFORE_OK:
            out += '\\ '
        out += rst
        if markup and index + 1 < len(parts):
            following = parts[index + 1][1]
            if following and following[0] not in AFTER_OK:
                out += '\\ '
    out = out.strip()
    if out.endswith('::'):
        out = out[:-1] + '\\:'
    # text that rst would read as the start of a list, option list, field list, doctest or comment
    if re.match(r'(\.\.|[-+:>]|\(?[0-9A-Za-z#]+[.)](\s|$))', out):
        out = '\\' + out
    return out


def split_row(line):
    """Cells of a pipe table row; pipes inside code spans or escaped with a backslash do not split."""
    line = line.strip()
    if line.startswith('|'):
        line = line[1:]
    if line.endswith('|') and not line.endswith('\\|'):
        line = line[:-1]
    cells, cell, index, ticks = [], '', 0, 0
    while index < len(line):
        char = line[index]
        if char == '\\' and index + 1 < len(line) and line[index + 1] == '|':
            cell += '|' if ticks else '\\|'
            index += 2
            continue
        if char == '`':
            run = len(line[index:]) - len(line[index:].lstrip('`'))
            if ticks == 0:
                ticks = run
            elif run == ticks:
                ticks = 0
            cell += '`' * run
            index += run
            continue
        if char == '|' and not ticks:
            cells.append(cell.strip())
            cell = ''
        else:
            cell += char
        index += 1
    cells.append(cell.strip())
    return cells


def indent(lines, width):
    return [(' ' * width + line) if line else '' for line in lines]


def starts_block(line, following):
    return bool(FENCE.match(line) or ATX.match(line) or BULLET.match(line) or ORDERED.match(line)
                or line.lstrip().startswith('>') or RULE.match(line)
                or (line.lstrip().startswith('|') and following is not None and TABLE_RULE.match(following)))


def item_span(lines, start, content_indent):
    """End (exclusive) of the list item starting at lines[start]."""
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if not line.strip():
            nxt = end + 1
            while nxt < len(lines) and not lines[nxt].strip():
                nxt += 1
            if nxt < len(lines) and len(lines[nxt]) - len(lines[nxt].lstrip()) >= content_indent:
                end = nxt
                continue
            break
        width = len(line) - len(line.lstrip())
        if width >= content_indent:
            end += 1
            continue
        following = lines[end + 1] if end + 1 < len(lines) else None
        if BULLET.match(line) or ORDERED.match(line) or starts_block(line, following):
            break
        end += 1  # lazy continuation of the item's paragraph
    return end


class Converter:

    def __init__(self, lines):
        # Heading levels in use, so that the same Markdown level always gets the same rst adornment.
        self.levels = set()
        fenced = None
        for index, line in enumerate(lines):
            fence = FENCE.match(line)
            if fence:
                marker = fence.group(2)[0]
                fenced = None if fenced == marker else (fenced or marker)
                continue
            atx = ATX.match(line)
            if not fenced and atx:
                self.levels.add(len(atx.group(1)))
            elif not fenced and index and lines[index - 1].strip() and SETEXT.match(line):
                self.levels.add(1 if line.strip()[0] == '=' else 2)

    def heading(self, level, text):
        self.levels.add(level)
        rank = sorted(self.levels).index(level)
        title = inline(text)
        char = ADORNMENTS[min(rank, len(ADORNMENTS) - 1)]
        rule = char * max(len(title), 3)
        return ([rule] if rank == 0 else []) + [title, rule, '']

    def blocks(self, lines):
        """Convert a list of Markdown lines (no common indentation) to rst lines."""
        out = []
        index = 0
        while index < len(lines):
            line = lines[index]
            following = lines[index + 1] if index + 1 < len(lines) else None
            if not line.strip() or HTML_COMMENT.match(line):
                index += 1
                continue
            fence = FENCE.match(line)
            if fence:
                marker, language = fence.group(2), fence.group(3) or 'text'
                base = len(fence.group(1))
                body = []
                index += 1
                while index < len(lines) and not lines[index].strip().startswith(marker):
                    body.append(lines[index][base:] if lines[index][:base].strip() == '' else lines[index].lstrip())
                    index += 1
                index += 1
                language = {'sh': 'shell', 'shell-session': 'console', 'yml': 'yaml'}.get(language, language)
                out += ['.. code-block:: %s' % language, ''] + indent(body, 4) + ['']
                continue
            atx = ATX.match(line)
            if atx:
                out += self.heading(len(atx.group(1)), atx.group(2))
                index += 1
                continue
            if RULE.match(line):
                index += 1
                continue
            if line.lstrip().startswith('|') and following is not None and TABLE_RULE.match(following):
                header = split_row(line)
                rows = []
                index += 2
                while index < len(lines) and lines[index].strip().startswith('|'):
                    rows.append(split_row(lines[index]))
                    index += 1
                out += self.table(header, rows)
                continue
            if line.lstrip().startswith('>'):
                quoted = []
                while index < len(lines) and lines[index].lstrip().startswith('>'):
                    quoted.append(re.sub(r'^\s*> ?', '', lines[index]))
                    index += 1
                # the empty comment keeps the quote from joining a list or paragraph just above it
                out += ['..', ''] + indent(self.blocks(quoted), 4) + ['']
                continue
            if BULLET.match(line) or ORDERED.match(line):
                index, rst = self.list_block(lines, index)
                out += rst
                continue
            paragraph = [line.strip()]
            index += 1
            while index < len(lines) and lines[index].strip():
                following = lines[index + 1] if index + 1 < len(lines) else None
                setext = SETEXT.match(lines[index])
                if setext and len(paragraph) == 1:
                    out += self.heading(1 if setext.group(1)[0] == '=' else 2, paragraph[0])
                    paragraph = []
                    index += 1
                    break
                if starts_block(lines[index], following):
                    break
                paragraph.append(lines[index].strip())
                index += 1
            if paragraph:
                out += [inline(' '.join(paragraph)), '']
        return out

    def list_block(self, lines, index):
        out = []
        first = BULLET.match(lines[index]) or ORDERED.match(lines[index])
        base = len(first.group(1))
        ordered = ORDERED.match(lines[index]) is not None
        number = int(first.group(2)) if ordered else None
        while index < len(lines):
            match = (ORDERED if ordered else BULLET).match(lines[index])
            if not match or len(match.group(1)) != base:
                break
            if ordered:
                marker, spacing, text = '%d.' % number, match.group(4), match.group(5)
                md_indent = base + len(match.group(2)) + 1 + len(spacing)
                number += 1
            else:
                marker, spacing, text = '-', match.group(3), match.group(4)
                md_indent = base + 1 + len(spacing)
            end = item_span(lines, index, md_indent)
            body = [text]
            for line in lines[index + 1:end]:
                width = len(line) - len(line.lstrip())
                body.append(line[min(width, md_indent):])
            rst = self.blocks(body)
            while rst and not rst[-1]:
                rst.pop()
            if not rst:
                rst = ['']
            out.append('%s %s' % (marker, rst[0]) if rst[0] else marker)
            out += indent(rst[1:], len(marker) + 1)
            index = end
            while index < len(lines) and not lines[index].strip():
                index += 1
        return index, out + ['']

    def table(self, header, rows):
        width = len(header)
        out = ['.. list-table::', '   :header-rows: 1', '']
        for row in [header] + rows:
            row = (row + [''] * width)[:width]
            for position, cell in enumerate(row):
                rst = inline(cell) if cell else ''
                prefix = '   * - ' if position == 0 else '     - '
                out.append((prefix + rst).rstrip())
        return out + ['']


def convert(markdown, label):
    lines = markdown.replace('\t', '    ').splitlines()
    body = Converter(lines).blocks(lines)
    return '\n'.join(['.. _%s:' % label, ''] + body).rstrip() + '\n'


def add_to_extra_docs(path, section_title, ref):
    data = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle) or {}
    sections = data.setdefault('sections', [])
    section = next((s for s in sections if s.get('title') == section_title), None)
    if section is None:
        section = {'title': section_title, 'toctree': []}
        sections.append(section)
    toctree = section.setdefault('toctree', [])
    if ref not in toctree:
        toctree.append(ref)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('---\n' + yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('collection', help='collection directory (a copy of the tree)')
    parser.add_argument('markdown', help='Markdown file, relative to the collection directory')
    parser.add_argument('page', help='page name under docs/docsite/rst, without .rst')
    parser.add_argument('section', help='extra-docs.yml section to list the page in')
    parser.add_argument('--title', help='page title when the Markdown file does not exist')
    parser.add_argument('--missing', help='page text when the Markdown file does not exist')
    args = parser.parse_args(argv)

    with open(os.path.join(args.collection, 'galaxy.yml'), encoding='utf-8') as handle:
        galaxy = yaml.safe_load(handle)
    label = 'ansible_collections.%s.%s.docsite.%s' % (galaxy['namespace'], galaxy['name'], args.page)
    source = os.path.join(args.collection, args.markdown)
    if os.path.exists(source):
        with open(source, encoding='utf-8') as handle:
            markdown = handle.read()
        note = '.. Generated by make docs from %s: edit that file, not this one.\n\n' % args.markdown
    elif args.title and args.missing:
        markdown = '# %s\n\n%s\n' % (args.title, args.missing)
        note = '.. Generated by make docs because %s does not exist.\n\n' % args.markdown
    else:
        sys.exit('docs-md2rst: %s does not exist' % source)
    target = os.path.join(args.collection, 'docs', 'docsite', 'rst', args.page + '.rst')
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, 'w', encoding='utf-8') as handle:
        handle.write(note + convert(markdown, label))
    add_to_extra_docs(os.path.join(args.collection, 'docs', 'docsite', 'extra-docs.yml'), args.section, args.page)
    print(target)


if __name__ == '__main__':
    main()
