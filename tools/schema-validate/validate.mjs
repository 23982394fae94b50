// Validates KARL schema files against schema/karl-schema.json (the JSON Schema
// karlgen derives from the loader's key tables) with Ajv, and checks that the
// mistakes in testdata/ are flagged, so that editors using the JSON Schema (the
// "# yaml-language-server: $schema=..." line) complete and check schema files.
// Exits 1 when a valid schema is refused or a broken one accepted, printing
// file:line:col: message for each problem.
//
//   node validate.mjs [FILE...]
//
// Without arguments it validates every schema of the repository that the loader
// accepts (schema/karl.yaml, the generator's, review's and the runtime's test
// schemas, the one karlgen init writes), then testdata/*.yaml, whose first line says what must be reported:
// "# expect: <text the error report contains>".
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { parseDocument, LineCounter, isMap, isSeq } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

function glob(dir, name) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).sort().map((d) => join(abs, d, name)).filter((f) => existsSync(f));
}

function validFiles() {
  return [
    join(root, 'schema/karl.yaml'),
    join(root, 'runtime/internal/testapi/schema.yaml'),
    join(root, 'bench/internal/echoapi/schema.yaml'),
    join(root, 'gen/cmd/karlgen/scaffold/schema.yaml.tmpl'),
    ...glob('gen/testdata', 'schema.yaml'),
    ...glob('gen/review/testdata/lint', 'schema.yaml'),
    ...glob('gen/review/testdata/diff', 'old.yaml'),
    ...glob('gen/review/testdata/diff', 'new.yaml'),
  ].filter((f) => existsSync(f));
}

// position returns line:col of the YAML node at an Ajv instance path, or of the
// offending key when the error names one.
function position(doc, lines, instancePath, key) {
  const path = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = doc.contents;
  for (const p of path) {
    if (isMap(node)) node = node.items.find((pair) => String(pair.key?.value) === p)?.value;
    else if (isSeq(node)) node = node.items[Number(p)];
    else break;
  }
  if (key !== undefined && isMap(node)) {
    node = node.items.find((pair) => String(pair.key?.value) === key)?.key ?? node;
  }
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = lines.linePos(offset);
  return `${line}:${col}`;
}

// source reads a schema file; the template karlgen init renders gets sample values.
function source(file) {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.tmpl')) return text;
  return text.replaceAll('{{.Name}}', 'chat').replaceAll('{{.JSONSchemaURL}}', schema.$id);
}

// check returns the problems Ajv finds in file, formatted file:line:col: message.
function check(validate, file) {
  const lines = new LineCounter();
  const doc = parseDocument(source(file), { lineCounter: lines });
  const name = relative(process.cwd(), file);
  if (doc.errors.length) return doc.errors.map((e) => `${name}: invalid YAML: ${e.message}`);
  if (validate(doc.toJS())) return [];
  return validate.errors.map((e) => {
    const key = e.params?.additionalProperty;
    const what = key === undefined ? '' : ` "${key}"`;
    return `${name}:${position(doc, lines, e.instancePath, key)}: ${e.instancePath || '/'}: ${e.message}${what}`;
  });
}

const schema = JSON.parse(readFileSync(join(root, 'schema/karl-schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }) // required in "if" tests keys declared elsewhere;
const validate = ajv.compile(schema);

let failed = 0;
const args = process.argv.slice(2);
for (const file of args.length ? args.map((a) => resolve(a)) : validFiles()) {
  const problems = check(validate, file);
  for (const p of problems) console.error(p);
  if (problems.length) failed++;
  else console.log(`ok ${relative(process.cwd(), file)}`);
}
if (!args.length) {
  for (const file of readdirSync(join(here, 'testdata')).sort().map((f) => join(here, 'testdata', f))) {
    const expect = readFileSync(file, 'utf8').split('\n')[0].replace(/^# expect: /, '');
    const report = check(validate, file).join('\n');
    if (report.includes(expect)) {
      console.log(`ok ${relative(process.cwd(), file)} is refused: ${expect}`);
    } else {
      console.error(`${relative(process.cwd(), file)}: want an error containing ${JSON.stringify(expect)}, got:\n${report || '(valid)'}`);
      failed++;
    }
  }
}
if (failed) {
  console.error(`schema-validate: ${failed} files did not validate as expected`);
  process.exit(1);
}
