// Prints the plain closing line CI reads ("N passed, N failed") from jest's JSON report.
const fs = require('node:fs');
const file = process.argv[2];
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  console.log('0 passed, 1 failed');
  console.error(`jest-summary: cannot read ${file}: ${err.message}`);
  process.exit(1);
}
// suites that failed to run (syntax errors, missing modules) count as failures too
const brokenSuites = report.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
const failed = report.numFailedTests + brokenSuites;
console.log(`${report.numPassedTests} passed, ${failed} failed`);
process.exit(failed === 0 && report.numPassedTests > 0 ? 0 : 1);
