import { describe, expect, it } from 'vitest';
import { compilePickles, GherkinError, parseFeature, type Feature } from '../../conformance/gherkin.ts';

const parse = (text: string): Feature => {
  const f = parseFeature(text, 'x.feature');
  expect(f).toBeDefined();
  return f!;
};

// Our own text, written for this test; it exercises what the conformance features use and more.
const SHOP = `# a comment before everything
@shop @smoke
Feature: Shop front
  Customers reach the shop through the edge.

  # a comment inside the description
  Orders are routed by path.

  Background: the cluster
    Given a namespace
    And a manifest:
      """yaml
      kind: Thing
      spec:
        nested: true

        after-blank: "yes"
      """

  Scenario: Browse the catalogue
    (plain scenario with a description)

    When I ask for "/catalogue"
    Then the answer is 200
    But the body is not empty
    * the log says:
      | key    | value          |
      | level  | info           |
      | note   | a \\| b \\\\ c \\n d |

  @outline
  Scenario Outline: Order <item> by <how>
    When I order "<item>" with "<how>" from <shop>
    Then the receipt lists:
      \`\`\`
      <item> x1 \\\`\\\`\\\`
      \`\`\`
    And the table has:
      | item   | other  |
      | <item> | <none> |

    Examples: by hand
      | item  | how  |
      | apple | cash |
      | pear  |      |

    @card
    Scenarios:
      | item | how  |
      | fig  | card |

  Scenario Template: No examples at all
    Then it runs once as written with <how>
`;

describe('parseFeature', () => {
  it('reads a feature with tags, description, background, doc strings, tables and outlines', () => {
    const f = parse(SHOP);
    expect(f).toMatchObject({ uri: 'x.feature', name: 'Shop front', tags: ['@shop', '@smoke'], line: 3, description: 'Customers reach the shop through the edge.\n\nOrders are routed by path.' });
    expect(f.background!.steps.map((s) => [s.keyword, s.text, s.line])).toEqual([
      ['Given', 'a namespace', 10],
      ['And', 'a manifest:', 11],
    ]);
    const doc = f.background!.steps[1]!.docString!;
    expect(doc).toEqual({ content: 'kind: Thing\nspec:\n  nested: true\n\n  after-blank: "yes"', mediaType: 'yaml', line: 12 });

    const [browse, order, template] = f.scenarios;
    expect(browse).toMatchObject({ keyword: 'Scenario', name: 'Browse the catalogue', description: '(plain scenario with a description)', tags: [], line: 20 });
    expect(browse!.steps.map((s) => s.keyword)).toEqual(['When', 'Then', 'But', '*']);
    expect(browse!.steps[3]!.dataTable!.map((r) => r.cells)).toEqual([
      ['key', 'value'],
      ['level', 'info'],
      ['note', 'a | b \\ c \n d'],
    ]);

    expect(order).toMatchObject({ keyword: 'Scenario Outline', name: 'Order <item> by <how>', tags: ['@outline'] });
    expect(order!.steps[1]!.docString).toEqual({ content: '<item> x1 ```', mediaType: undefined, line: 35 });
    expect(order!.examples.map((e) => [e.name, e.tags, e.header!.cells, e.rows.map((r) => r.cells)])).toEqual([
      ['by hand', [], ['item', 'how'], [['apple', 'cash'], ['pear', '']]],
      ['', ['@card'], ['item', 'how'], [['fig', 'card']]],
    ]);
    expect(template).toMatchObject({ keyword: 'Scenario Outline', name: 'No examples at all', examples: [] });
  });

  it('is undefined for a document without a Feature', () => {
    expect(parseFeature('# only a comment\n\n   \n')).toBeUndefined();
    expect(parseFeature('')).toBeUndefined();
  });

  it('accepts Windows line endings, a byte-order mark and `# language: en`', () => {
    const f = parse('\uFEFF# language: en\r\nFeature: F\r\n  Scenario: S\r\n    Given x\r\n');
    expect(f.scenarios[0]!.steps[0]!.text).toBe('x');
  });

  it('reads Rules with their own Background', () => {
    const f = parse(['Feature: F', '  Background:', '    Given feature step', '  Scenario: top', '    Then a', '  @r', '  Rule: R', '    Background:', '      Given rule step', '    Scenario: inner', '      Then b'].join('\n'));
    expect(f.scenarios.map((s) => s.name)).toEqual(['top']);
    expect(f.rules).toHaveLength(1);
    expect(f.rules[0]).toMatchObject({ name: 'R', tags: ['@r'] });
    expect(f.rules[0]!.background!.steps.map((s) => s.text)).toEqual(['rule step']);
    expect(f.rules[0]!.scenarios.map((s) => s.name)).toEqual(['inner']);
  });

  it('ignores a comment after tags', () => {
    expect(parse('@a @b #not a tag\nFeature: F\n').tags).toEqual(['@a', '@b']);
  });

  // [what, document, line of the error, words of the message]
  const bad: [string, string, number, string][] = [
    ['a step before any scenario', 'Feature: F\n  Given x\n', 2, 'a step outside a Background or Scenario'],
    ['a misspelt step keyword', 'Feature: F\n  Scenario: S\n    Given x\n    Wen y\n', 4, 'unexpected line: "Wen y"'],
    ['a scenario before the feature', 'Scenario: S\n', 1, 'Scenario before Feature'],
    ['two features', 'Feature: A\nFeature: B\n', 2, 'a document holds one Feature'],
    ['an unclosed doc string', 'Feature: F\n  Scenario: S\n    Given x\n      """\n      text\n', 4, 'never closed'],
    ['a doc string without a step', 'Feature: F\n  Scenario: S\n    """\n    """\n', 3, 'a doc string must follow a step'],
    ['a doc string after a table', 'Feature: F\n  Scenario: S\n    Given x\n      | a |\n      """\n      """\n', 5, 'already has an argument'],
    ['a table after a doc string', 'Feature: F\n  Scenario: S\n    Given x\n      """\n      """\n      | a |\n', 6, 'already has a doc string'],
    ['rows of different widths', 'Feature: F\n  Scenario: S\n    Given x\n      | a | b |\n      | c |\n', 5, '1 cells, the table\'s first row 2'],
    ['an Examples row wider than its header', 'Feature: F\n  Scenario Outline: S\n    Given <a>\n    Examples:\n      | a |\n      | 1 | 2 |\n', 6, '2 cells, the header 1'],
    ['a row left open', 'Feature: F\n  Scenario: S\n    Given x\n      | a | b\n', 4, 'does not end with |'],
    ['Examples outside a scenario', 'Feature: F\n  Examples:\n', 2, 'Examples outside a Scenario Outline'],
    ['a step after Examples', 'Feature: F\n  Scenario Outline: S\n    Given <a>\n    Examples:\n      | a |\n      | 1 |\n    Then y\n', 7, 'a step after Examples'],
    ['tags on a Background', 'Feature: F\n  @t\n  Background:\n', 2, 'a Background cannot have tags'],
    ['a second Background', 'Feature: F\n  Background:\n  Background:\n', 3, 'a second Background'],
    ['a Background after a scenario', 'Feature: F\n  Scenario: S\n  Background:\n', 3, 'must come before the scenarios'],
    ['tags before a step', 'Feature: F\n  Scenario: S\n    @t\n    Given x\n', 3, 'tags must be followed by'],
    ['tags at the end', 'Feature: F\n@t\n', 2, 'tags must be followed by'],
    ['a malformed tag', '@ok bad\nFeature: F\n', 1, 'not a tag: "bad"'],
    ['another language', '# language: fr\nFonctionnalité: F\n', 1, 'language "fr" is not supported'],
    ['a table without a step', 'Feature: F\n  Scenario: S\n    | a |\n', 3, 'a table row must follow a step or Examples'],
    ['free text between steps', 'Feature: F\n  Scenario: S\n    Given x\n    and then some\n', 4, 'unexpected line'],
  ];
  it.each(bad)('rejects %s', (_what, text, line, words) => {
    let error: unknown;
    try {
      parseFeature(text, 'bad.feature');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GherkinError);
    expect((error as GherkinError).line).toBe(line);
    expect((error as GherkinError).message).toContain(`bad.feature:${line}: `);
    expect((error as GherkinError).message).toContain(words);
  });
});

describe('compilePickles', () => {
  it('puts Background steps first and expands each Examples row', () => {
    const pickles = compilePickles(parse(SHOP));
    expect(pickles.map((p) => [p.name, p.line, p.exampleLine, p.tags])).toEqual([
      ['Browse the catalogue', 20, undefined, ['@shop', '@smoke']],
      ['Order apple by cash', 32, 44, ['@shop', '@smoke', '@outline']],
      ['Order pear by ', 32, 45, ['@shop', '@smoke', '@outline']],
      ['Order fig by card', 32, 50, ['@shop', '@smoke', '@outline', '@card']],
      ['No examples at all', 52, undefined, ['@shop', '@smoke']],
    ]);
    const apple = pickles[1]!;
    expect(apple.params).toEqual({ item: 'apple', how: 'cash' });
    expect(apple.steps.map((s) => s.text)).toEqual(['a namespace', 'a manifest:', 'I order "apple" with "cash" from <shop>', 'the receipt lists:', 'the table has:']);
    expect(apple.steps[1]!.docString!.content).toContain('after-blank');
    expect(apple.steps[3]!.docString!.content).toBe('apple x1 ```');
    // A name that is not a column (<none>) stays as written.
    expect(apple.steps[4]!.dataTable!.map((r) => r.cells)).toEqual([
      ['item', 'other'],
      ['apple', '<none>'],
    ]);
    expect(pickles[2]!.steps[2]!.text).toBe('I order "pear" with "" from <shop>');
    // An outline without Examples runs once, its placeholders untouched.
    expect(pickles[4]!.steps.map((s) => s.text)).toEqual(['a namespace', 'a manifest:', 'it runs once as written with <how>']);
  });

  it('runs the Feature Background, then the Rule Background, then the scenario', () => {
    const f = parse(['Feature: F', '  Background:', '    Given one', '  Rule: R', '    Background:', '      Given two', '    Scenario: S', '      Then three'].join('\n'));
    const [p] = compilePickles(f);
    expect(p!.ruleName).toBe('R');
    expect(p!.steps.map((s) => s.text)).toEqual(['one', 'two', 'three']);
  });

  it('yields nothing for an Examples block without rows', () => {
    const f = parse('Feature: F\n  Scenario Outline: S\n    Given <a>\n    Examples:\n      | a |\n    Examples:\n');
    expect(compilePickles(f)).toEqual([]);
  });
});
