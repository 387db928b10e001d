/**
 * The `ts-libp2p` command's own process only: drops the one "SQLite is an experimental
 * feature" warning that Node 22 prints when node:sqlite first loads, so the command's stderr
 * carries only what the command says (JSON lines on stdout stay clean either way). Every other
 * warning still prints. The library never does this: an application decides about its own
 * process's warnings.
 */
const emitWarning = process.emitWarning.bind(process)

process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
  const message = typeof warning === 'string' ? warning : warning.message
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined)
  if (type === 'ExperimentalWarning' && message.includes('SQLite')) return
  emitWarning(warning as string, ...(rest as []))
}) as typeof process.emitWarning
