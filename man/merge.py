#!/usr/bin/env python3
"""Merges man/plugin-*.roff fragments and etc/cairn.conf into the pages,
between '.\\" BEGIN name' and '.\\" END name' comments. A fragment that does
not exist leaves the text between its markers as it is."""
import os, re, sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
MARK = '.\\" cairn.8 examples'
TITLES = {'volume': 'volumes', 'postgres': 'PostgreSQL', 'redis': 'Redis',
          'kong': 'Kong'}

def split_fragment(text):
    lines = text.split('\n')
    for i, l in enumerate(lines):
        if l.strip() == MARK:
            return '\n'.join(lines[:i]), '\n'.join(lines[i + 1:])
    return text, ''

def strip_leading_comments(text):
    lines = text.strip('\n').split('\n')
    while lines and (lines[0].startswith('.\\"') or lines[0].strip() == ''):
        lines.pop(0)
    return lines

def conf_part(name, text):
    lines = strip_leading_comments(text)
    # One heading style for every plugin section.
    if lines and lines[0].startswith('.SS'):
        lines[0] = '.SS "plugin = %s"' % name
    else:
        lines.insert(0, '.SS "plugin = %s"' % name)
    return '\n'.join(lines).rstrip('\n')

def examples_part(name, text):
    lines = strip_leading_comments(text)
    if not lines:
        return None
    if not lines[0].startswith('.SS'):
        lines.insert(0, '.SS "Restoring %s"' % TITLES.get(name, name))
        if len(lines) > 1 and lines[1] in ('.PP', '.LP', '.P'):
            lines.pop(1)
    return '\n'.join(lines).rstrip('\n')

def replace_block(page, name, body):
    begin = '.\\" BEGIN %s\n' % name
    end = '.\\" END %s\n' % name
    a = page.index(begin) + len(begin)
    b = page.index(end)
    return page[:a] + body + '\n' + page[b:]

def roff_literal(text):
    out = []
    for line in text.rstrip('\n').split('\n'):
        line = line.replace('\t', '    ')
        line = line.replace('\\', '\\e').replace('-', '\\-')
        line = line.replace("'", "\\(aq").replace('"', '\\(dq')
        if line.startswith('.') or line.startswith("'"):
            line = '\\&' + line
        if line == '':
            line = ''
        out.append(line)
    return '.EX\n' + '\n'.join(out) + '\n.EE'

conf = open(os.path.join(top, 'man/cairn.conf.5')).read()
eight = open(os.path.join(top, 'man/cairn.8')).read()
for name in ('volume', 'postgres', 'redis', 'kong'):
    path = os.path.join(top, 'man/plugin-%s.roff' % name)
    if not os.path.exists(path):
        print('no fragment for %s: placeholder kept' % name)
        continue
    c, e = split_fragment(open(path).read())
    conf = replace_block(conf, 'plugin-%s.roff' % name, conf_part(name, c))
    ex = examples_part(name, e)
    if ex is not None:
        eight = replace_block(eight, 'plugin-%s.roff' % name, ex)
    print('merged %s' % name)
conf = replace_block(conf, 'etc/cairn.conf',
                     roff_literal(open(os.path.join(top, 'etc/cairn.conf')).read()))
open(os.path.join(top, 'man/cairn.conf.5'), 'w').write(conf)
open(os.path.join(top, 'man/cairn.8'), 'w').write(eight)

# The example plugin of cairn-plugin(7).
example = os.environ.get('ONEFILE', '/tmp/docs-gen/onefile4.c')
if os.path.exists(example):
    page = open(os.path.join(top, 'man/cairn-plugin.7')).read()
    code = open(example).read().replace('\t', '    ')
    page = replace_block(page, 'example onefile.c', roff_literal(code))
    open(os.path.join(top, 'man/cairn-plugin.7'), 'w').write(page)
    print('merged the example plugin')
