/**
 * A small Gherkin parser (English keywords) and pickle compiler for the conformance runner.
 *
 * Understands what the ingress-controller-conformance features use and the rest of the common
 * language: Feature, Rule, Background, Scenario/Example, Scenario Outline/Template with
 * Examples/Scenarios tables, Given/When/Then/And/But/`*` steps, doc strings (`"""` or ```` ``` ````,
 * with a media type), data tables (with `\|`, `\\`, `\n` escapes), tags and comments.
 * A line it cannot place is an error naming the file and line: a runner that silently dropped a step
 * would report a scenario as passing that never ran.
 *
 * Pickles follow the Cucumber compiler: Background steps first (the Feature's, then the Rule's), an
 * outline row's values replace `<column>` in step text, doc strings and table cells (names that are
 * not columns stay as written), and a Scenario Outline without Examples is one plain scenario.
 */

export type StepKeyword = 'Given' | 'When' | 'Then' | 'And' | 'But' | '*';

export interface DocString {
  readonly content: string;
  /** What followed the opening delimiter, e.g. `yaml`; undefined when nothing did. */
  readonly mediaType: string | undefined;
  readonly line: number;
}

export interface TableRow {
  readonly line: number;
  readonly cells: readonly string[];
}

export interface Step {
  readonly keyword: StepKeyword;
  readonly text: string;
  readonly line: number;
  readonly docString: DocString | undefined;
  readonly dataTable: readonly TableRow[] | undefined;
}

export interface Background {
  readonly name: string;
  readonly description: string;
  readonly line: number;
  readonly steps: readonly Step[];
}

export interface Examples {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly line: number;
  /** The first row; undefined for an Examples block without a table. */
  readonly header: TableRow | undefined;
  readonly rows: readonly TableRow[];
}

export interface Scenario {
  readonly keyword: 'Scenario' | 'Scenario Outline';
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly line: number;
  readonly steps: readonly Step[];
  readonly examples: readonly Examples[];
}

export interface Rule {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly line: number;
  readonly background: Background | undefined;
  readonly scenarios: readonly Scenario[];
}

export interface Feature {
  readonly uri: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly line: number;
  readonly background: Background | undefined;
  /** Scenarios before the first Rule (Gherkin puts every later one inside a Rule). */
  readonly scenarios: readonly Scenario[];
  readonly rules: readonly Rule[];
}

export interface PickleStep {
  readonly keyword: StepKeyword;
  readonly text: string;
  readonly line: number;
  readonly docString: DocString | undefined;
  readonly dataTable: readonly TableRow[] | undefined;
}

/** One runnable scenario: a Scenario, or one row of an outline's Examples. */
export interface Pickle {
  readonly uri: string;
  readonly featureName: string;
  readonly ruleName: string | undefined;
  readonly name: string;
  /** Line of the Scenario keyword. */
  readonly line: number;
  /** Line of the Examples row, for outline rows. */
  readonly exampleLine: number | undefined;
  /** Column → value of the Examples row; empty for a plain scenario. */
  readonly params: Readonly<Record<string, string>>;
  /** Feature, Rule, Scenario and Examples tags, in that order. */
  readonly tags: readonly string[];
  readonly steps: readonly PickleStep[];
}

/** A document that is not Gherkin as this parser knows it; `line` is 1-based. */
export class GherkinError extends Error {
  readonly uri: string;
  readonly line: number;
  constructor(uri: string, line: number, message: string) {
    super(`${uri}:${line}: ${message}`);
    this.name = 'GherkinError';
    this.uri = uri;
    this.line = line;
  }
}

// The parser builds plain objects and hands them out as the readonly shapes above.
interface MStep { keyword: StepKeyword; text: string; line: number; docString: DocString | undefined; dataTable: TableRow[] | undefined }
interface MBackground { name: string; description: string; line: number; steps: MStep[] }
interface MExamples { name: string; description: string; tags: string[]; line: number; header: TableRow | undefined; rows: TableRow[] }
interface MScenario { keyword: Scenario['keyword']; name: string; description: string; tags: string[]; line: number; steps: MStep[]; examples: MExamples[] }
interface MRule { name: string; description: string; tags: string[]; line: number; background: MBackground | undefined; scenarios: MScenario[] }
interface MFeature { uri: string; name: string; description: string; tags: string[]; line: number; background: MBackground | undefined; scenarios: MScenario[]; rules: MRule[] }
/** Whatever a description line would belong to. */
type Described = { description: string };

const HEADER = /^(Feature|Rule|Background|Scenario Outline|Scenario Template|Scenario|Example|Examples|Scenarios):\s*(.*)$/;
const STEP = /^(Given|When|Then|And|But|\*)(?:\s+(.*))?$/;
const DOC_OPEN = /^("""|```)\s*(.*)$/;
const LANGUAGE = /^#\s*language\s*:\s*(\S+)\s*$/;

/** Parses one `.feature` document; undefined when it holds no Feature (only comments and blank lines). */
export function parseFeature(text: string, uri = '<text>'): Feature | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, message: string): never => {
    throw new GherkinError(uri, line, message);
  };

  let feature: MFeature | undefined;
  let rule: MRule | undefined;
  let background: MBackground | undefined;
  let scenario: MScenario | undefined;
  let examples: MExamples | undefined;
  let step: MStep | undefined;
  let described: Described | undefined;
  let description: string[] = [];
  let tags: string[] = [];
  let tagsLine = 0;

  const closeDescription = (): void => {
    if (described) described.description = trimBlankLines(description).join('\n');
    described = undefined;
    description = [];
  };
  const takeTags = (): string[] => {
    const t = tags;
    tags = [];
    return t;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const trimmed = raw.trim();

    const docOpen = DOC_OPEN.exec(trimmed);
    if (docOpen) {
      closeDescription();
      const delimiter = docOpen[1]!;
      if (!step) fail(lineNo, 'a doc string must follow a step');
      if (step!.docString || step!.dataTable) fail(lineNo, `the step on line ${step!.line} already has an argument`);
      const indent = raw.length - raw.trimStart().length;
      const content: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        const inner = lines[i]!;
        if (inner.trim() === delimiter) {
          closed = true;
          break;
        }
        content.push(unescapeDocLine(dedent(inner, indent), delimiter));
      }
      if (!closed) fail(lineNo, `doc string opened here is never closed with ${delimiter}`);
      step!.docString = { content: content.join('\n'), mediaType: docOpen[2] === '' ? undefined : docOpen[2], line: lineNo };
      continue;
    }

    if (trimmed === '') {
      if (described) description.push('');
      continue;
    }

    if (trimmed.startsWith('#')) {
      const lang = LANGUAGE.exec(trimmed);
      if (lang && lang[1] !== 'en') fail(lineNo, `language ${JSON.stringify(lang[1])} is not supported (English keywords only)`);
      continue;
    }

    if (trimmed.startsWith('@')) {
      closeDescription();
      if (tags.length === 0) tagsLine = lineNo;
      tags.push(...parseTags(trimmed, (message) => fail(lineNo, message)));
      continue;
    }

    const header = HEADER.exec(trimmed);
    if (header) {
      closeDescription();
      const keyword = header[1]!;
      const name = header[2]!.trim();
      step = undefined;
      switch (keyword) {
        case 'Feature': {
          if (feature) fail(lineNo, 'a document holds one Feature');
          feature = { uri, name, description: '', tags: takeTags(), line: lineNo, background: undefined, scenarios: [], rules: [] };
          described = feature;
          break;
        }
        case 'Rule': {
          if (!feature) fail(lineNo, 'Rule before Feature');
          rule = { name, description: '', tags: takeTags(), line: lineNo, background: undefined, scenarios: [] };
          feature!.rules.push(rule);
          background = undefined;
          scenario = undefined;
          examples = undefined;
          described = rule;
          break;
        }
        case 'Background': {
          if (!feature) fail(lineNo, 'Background before Feature');
          if (tags.length > 0) fail(tagsLine, 'a Background cannot have tags');
          const owner = rule ?? feature!;
          if (owner.background) fail(lineNo, `a second Background (the first is on line ${owner.background.line})`);
          if (owner.scenarios.length > 0) fail(lineNo, 'a Background must come before the scenarios');
          background = { name, description: '', line: lineNo, steps: [] };
          owner.background = background;
          scenario = undefined;
          examples = undefined;
          described = background;
          break;
        }
        case 'Examples':
        case 'Scenarios': {
          if (!scenario) fail(lineNo, `${keyword} outside a Scenario Outline`);
          examples = { name, description: '', tags: takeTags(), line: lineNo, header: undefined, rows: [] };
          scenario!.examples.push(examples);
          described = examples;
          break;
        }
        default: {
          if (!feature) fail(lineNo, `${keyword} before Feature`);
          const outline = keyword === 'Scenario Outline' || keyword === 'Scenario Template';
          scenario = { keyword: outline ? 'Scenario Outline' : 'Scenario', name, description: '', tags: takeTags(), line: lineNo, steps: [], examples: [] };
          (rule ?? feature!).scenarios.push(scenario);
          background = undefined;
          examples = undefined;
          described = scenario;
        }
      }
      continue;
    }

    if (tags.length > 0) fail(tagsLine, 'tags must be followed by Feature, Rule, Scenario or Examples');

    const stepMatch = STEP.exec(trimmed);
    if (stepMatch && stepMatch[2] !== undefined) {
      closeDescription();
      const owner = scenario ?? background;
      if (!owner) fail(lineNo, 'a step outside a Background or Scenario');
      if (examples) fail(lineNo, 'a step after Examples');
      step = { keyword: stepMatch[1] as StepKeyword, text: stepMatch[2]!.trim(), line: lineNo, docString: undefined, dataTable: undefined };
      owner!.steps.push(step);
      continue;
    }

    if (trimmed.startsWith('|')) {
      closeDescription();
      const row: TableRow = { line: lineNo, cells: parseRow(trimmed, (message) => fail(lineNo, message)) };
      if (examples) {
        const width = examples.header?.cells.length;
        if (width === undefined) examples.header = row;
        else {
          if (row.cells.length !== width) fail(lineNo, `the row has ${row.cells.length} cells, the header ${width}`);
          examples.rows.push(row);
        }
        continue;
      }
      if (!step) fail(lineNo, 'a table row must follow a step or Examples');
      if (step!.docString) fail(lineNo, `the step on line ${step!.line} already has a doc string`);
      const table = (step!.dataTable ??= []);
      if (table.length > 0 && table[0]!.cells.length !== row.cells.length) fail(lineNo, `the row has ${row.cells.length} cells, the table's first row ${table[0]!.cells.length}`);
      table.push(row);
      continue;
    }

    // Free text belongs to the header just above it; anywhere else it is a typo (a misspelt keyword).
    if (described) {
      description.push(trimmed);
      continue;
    }
    fail(lineNo, `unexpected line: ${JSON.stringify(trimmed)}`);
  }

  closeDescription();
  if (tags.length > 0) fail(tagsLine, 'tags must be followed by Feature, Rule, Scenario or Examples');
  return feature;
}

/** The runnable scenarios of `feature`, in document order. */
export function compilePickles(feature: Feature): Pickle[] {
  const pickles: Pickle[] = [];
  const add = (sc: Scenario, rule: Rule | undefined): void => {
    const backgroundSteps = [...(feature.background?.steps ?? []), ...(rule?.background?.steps ?? [])].map(pickleStep({}));
    const baseTags = [...feature.tags, ...(rule?.tags ?? []), ...sc.tags];
    const common = { uri: feature.uri, featureName: feature.name, ruleName: rule?.name, line: sc.line };
    if (sc.examples.length === 0) {
      pickles.push({ ...common, name: sc.name, exampleLine: undefined, params: {}, tags: baseTags, steps: [...backgroundSteps, ...sc.steps.map(pickleStep({}))] });
      return;
    }
    for (const ex of sc.examples) {
      if (!ex.header) continue;
      for (const row of ex.rows) {
        const params: Record<string, string> = {};
        ex.header.cells.forEach((column, k) => (params[column] = row.cells[k]!));
        pickles.push({
          ...common,
          name: interpolate(sc.name, params),
          exampleLine: row.line,
          params,
          tags: [...baseTags, ...ex.tags],
          steps: [...backgroundSteps, ...sc.steps.map(pickleStep(params))],
        });
      }
    }
  };
  for (const sc of feature.scenarios) add(sc, undefined);
  for (const rule of feature.rules) for (const sc of rule.scenarios) add(sc, rule);
  return pickles;
}

const pickleStep =
  (params: Readonly<Record<string, string>>) =>
  (s: Step): PickleStep => ({
    keyword: s.keyword,
    text: interpolate(s.text, params),
    line: s.line,
    docString: s.docString && {
      content: interpolate(s.docString.content, params),
      mediaType: s.docString.mediaType === undefined ? undefined : interpolate(s.docString.mediaType, params),
      line: s.docString.line,
    },
    dataTable: s.dataTable?.map((r) => ({ line: r.line, cells: r.cells.map((c) => interpolate(c, params)) })),
  });

/** Replaces `<name>` for the columns of `params`; other `<...>` stay as written (Cucumber does the same). */
function interpolate(text: string, params: Readonly<Record<string, string>>): string {
  return text.replace(/<([^<>]*)>/g, (whole, name: string) => (Object.hasOwn(params, name) ? params[name]! : whole));
}

function parseTags(line: string, fail: (message: string) => never): string[] {
  const hash = line.search(/\s#/);
  const tokens = (hash >= 0 ? line.slice(0, hash) : line).split(/\s+/).filter((t) => t !== '');
  for (const t of tokens) if (!/^@[^@\s]+$/.test(t)) fail(`not a tag: ${JSON.stringify(t)}`);
  return tokens;
}

/** Cells of `| a | b |` with Gherkin's escapes; text after the last pipe is an error (a row left open). */
function parseRow(line: string, fail: (message: string) => never): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let k = 1; k < line.length; k++) {
    const c = line[k]!;
    if (c === '\\' && k + 1 < line.length) {
      const next = line[k + 1]!;
      k++;
      if (next === '|') cell += '|';
      else if (next === '\\') cell += '\\';
      else if (next === 'n') cell += '\n';
      else cell += `\\${next}`;
    } else if (c === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += c;
    }
  }
  if (cell.trim() !== '') fail(`table row does not end with |: ${JSON.stringify(line)}`);
  return cells;
}

/** Removes up to `indent` leading whitespace characters (the doc string's own indentation). */
function dedent(line: string, indent: number): string {
  let k = 0;
  while (k < indent && k < line.length && (line[k] === ' ' || line[k] === '\t')) k++;
  return line.slice(k);
}

function unescapeDocLine(line: string, delimiter: string): string {
  return delimiter === '"""' ? line.replaceAll('\\"\\"\\"', '"""') : line.replaceAll('\\`\\`\\`', '```');
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start] === '') start++;
  while (end > start && lines[end - 1] === '') end--;
  return lines.slice(start, end);
}
