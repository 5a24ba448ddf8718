#!/usr/bin/env node
import { appendFileSync } from "node:fs";
appendFileSync("/tmp/engine-probe.log", JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd() }) + "\n");
process.stdin.on("data", (d) => appendFileSync("/tmp/engine-probe.log", "IN " + d));
if (process.argv.includes("--version")) { console.log("schema-engine-cli probe"); process.exit(0); }
