// Loaded with `node --import` into every process-mode node the simulator spawns: the simulator holds the other end
// of this process's stdin, so when the simulator goes away — even by SIGKILL — stdin ends and the node exits with it.
process.stdin.on('end', () => process.exit(70));
process.stdin.on('error', () => process.exit(70));
process.stdin.resume();
