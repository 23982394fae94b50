// Validates AsyncAPI documents with the official parser (@asyncapi/parser): the
// JSON Schema of the specification plus its Spectral ruleset. Exits 1 when any
// document has an error-severity diagnostic, printing every diagnostic as
// file:line:col: severity: message (code) at path.
//
//   node validate.mjs [FILE...]
//
// Without arguments it validates docs/asyncapi.yaml and the goldens of the docs
// emitter (gen/testdata/*/docs/asyncapi.yaml, gen/docs/testdata/*/asyncapi.yaml),
// relative to the repository root.
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, fromFile, DiagnosticSeverity } from '@asyncapi/parser';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function defaultFiles() {
  const files = [join(root, 'docs/asyncapi.yaml')];
  const testdata = join(root, 'gen/testdata');
  for (const dir of readdirSync(testdata).sort()) {
    const f = join(testdata, dir, 'docs', 'asyncapi.yaml');
    if (existsSync(f)) files.push(f);
  }
  const docsdata = join(root, 'gen/docs/testdata'); // the docs emitter's own cases (room kinds' channels)
  for (const dir of existsSync(docsdata) ? readdirSync(docsdata).sort() : []) {
    const f = join(docsdata, dir, 'asyncapi.yaml');
    if (existsSync(f)) files.push(f);
  }
  return files;
}

const severityName = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

async function validate(parser, file) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const name = relative(process.cwd(), file);
  let errors = 0;
  for (const d of diagnostics) {
    const { line, character } = d.range.start;
    const at = d.path.length ? ` at ${d.path.join('.')}` : '';
    console.log(`${name}:${line + 1}:${character + 1}: ${severityName[d.severity]}: ${d.message} (${d.code})${at}`);
    if (d.severity === DiagnosticSeverity.Error) errors++;
  }
  if (document === undefined && errors === 0) errors = 1; // not parsed, whatever the reason
  console.log(`${name}: ${errors === 0 ? 'valid' : `${errors} errors`} (AsyncAPI ${document?.version() ?? '?'})`);
  return errors;
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : defaultFiles();
const parser = new Parser();
let failed = 0;
for (const file of files) {
  if ((await validate(parser, file)) > 0) failed++;
}
if (failed > 0) {
  console.error(`asyncapi-validate: ${failed} of ${files.length} documents have errors`);
  process.exit(1);
}
