// Exit codes, in a module of their own so code outside the CLI (the GitHub Action) can use them
// without loading oclif.
export const EXIT = { clean: 0, findings: 1, usage: 2 } as const;
