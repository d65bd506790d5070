import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseManifest, yamlDocumentChunks } from '../../../src/sources/normalize.ts';

describe('yamlDocumentChunks', () => {
  // Each row: the documents of the pieces, parsed one by one, must equal loadAll of the whole text.
  it.each([
    ['one implicit document', 'a: 1'],
    ['one explicit document', '---\na: 1'],
    ['a comment before the first marker', '# c\n---\na: 1\n---\nb: 2'],
    ['a %YAML directive', '%YAML 1.2\n---\na: 1\n---\nb: 2'],
    ['a byte-order mark', '\uFEFF---\na: 1\n---\n'],
    ['an implicit document, then markers and an end marker', 'a: 1\n---\nb: 2\n...\nc: 3'],
    ['empty documents', '---\n---\n---\na: 1'],
    ['"---" inside a block scalar, indented', 'x: |\n  text\n  --- not a marker\n---\ny: 2'],
    ['content on the marker line', '--- !!map\na: 1\n--- 5\n'],
    ['CRLF line ends', 'a: 1\r\n---\r\nb: 2\r\n'],
    ['an empty file', ''],
    ['only a comment', '# only a comment\n'],
  ])('%s', (_label, text) => {
    expect(yamlDocumentChunks(text).flatMap((c) => loadAll(c.text))).toEqual(loadAll(text));
  });

  it('gives each piece its offset in the file', () => {
    const text = 'a: 1\n---\nb: 2\n';
    expect(yamlDocumentChunks(text)).toEqual([
      { text: 'a: 1\n', offset: 0 },
      { text: '---\nb: 2\n', offset: 5 },
    ]);
  });

  it('a syntax error in a later document names that document and the line in the whole file', () => {
    const ok = 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n';
    const r = parseManifest(`${ok}---\n${ok}---\nkind: [\n`, 'm.yaml', 'test');
    expect(r.records).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.location).toMatchObject({ file: 'm.yaml', document: 2 });
    expect(r.errors[0]!.message).toMatch(/line (9|10),/);
  });
});
