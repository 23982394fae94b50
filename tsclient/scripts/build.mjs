// Compiles src/ into dist/ with tsconfig.build.json, and ends every relative import of
// the output (.js and .d.ts) with ".js" ("./generated/index" -> "./generated/index.js"),
// as Node ESM and tsc's nodenext resolution require; copies the repository's LICENSE.
//
// Why a transformer rather than the alternatives: the source keeps extensionless imports
// because Metro cannot load "./x.js" when only x.ts exists (facebook/metro#886), and
// ".ts" imports (TypeScript 5.7's rewriteRelativeImportExtensions) would make every
// consumer of the source enable allowImportingTsExtensions. Generating a second copy with
// karlgen --ts-import-suffix .js would leave session.ts and the entries, written by hand,
// without suffixes. Rewriting on the syntax tree as tsc emits touches import and export
// declarations and import("...") types only, never strings that look like paths.
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const configPath = join(root, "tsconfig.build.json");

/** withSuffix returns the Node ESM specifier of a relative one seen from the source file at from. */
function withSuffix(specifier, from) {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  if (/\.(m|c)?js$/.test(specifier)) return specifier;
  const base = resolve(dirname(from), specifier);
  if (existsSync(base + ".ts") || existsSync(base + ".tsx")) return specifier + ".js";
  if (existsSync(join(base, "index.ts"))) return specifier + "/index.js";
  throw new Error(`${from}: cannot resolve the import "${specifier}"`);
}

/** rewrite is a transformer that applies withSuffix to the module specifiers of a file. */
function rewrite(context) {
  const f = context.factory;
  return (file) => {
    const source = ts.getOriginalNode(file).fileName ?? file.fileName;
    const literal = (node) => f.createStringLiteral(withSuffix(node.text, source));
    const visit = (node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateImportDeclaration(node, node.modifiers, node.importClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, literal(node.moduleSpecifier), node.attributes);
      }
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const argument = f.updateLiteralTypeNode(node.argument, literal(node.argument.literal));
        return f.updateImportTypeNode(node, argument, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(file, visit);
  };
}

const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: report });
if (!config || config.errors.length > 0) fail(config?.errors ?? []);
rmSync(join(root, "dist"), { recursive: true, force: true });
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const emitted = program.emit(undefined, undefined, undefined, false, { after: [rewrite], afterDeclarations: [rewrite] });
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length > 0 || emitted.emitSkipped) fail(diagnostics);
// npm pack ships the LICENSE of the package's folder; the repository's is the one.
copyFileSync(join(root, "..", "LICENSE"), join(root, "LICENSE"));

function report(diagnostic) {
  fail([diagnostic]);
}

function fail(diagnostics) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
