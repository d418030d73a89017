#!/usr/bin/env node
export {};
console.error("ftpkit: the server is not built yet");
process.exitCode = 1;
