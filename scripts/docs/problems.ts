/** One thing the docs check found wrong: where, and what. */
export interface Problem {
  doc: string;
  line: number;
  message: string;
}

export function formatProblem(root: string, problem: Problem): string {
  const where = problem.doc.startsWith(root) ? problem.doc.slice(root.length + 1) : problem.doc;
  return `${where}:${problem.line}: ${problem.message}`;
}
