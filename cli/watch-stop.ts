// The end of a --watch (validate and test): Ctrl-C or SIGTERM closes the watcher, lets the pass under way finish,
// says "stopped watching" and leaves with exit 0, since stopping is what the user asked for, not a failure.
import pc from 'picocolors';

export function untilStopped(out: { write(text: string): unknown }, close: () => void, running: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      close();
      void running().finally(() => {
        out.write(`${pc.dim('stopped watching')}\n`);
        process.exitCode = 0;
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
