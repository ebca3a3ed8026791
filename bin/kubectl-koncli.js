#!/usr/bin/env node
// koncli as a kubectl plugin: `kubectl koncli lease status -n ops` runs this with the arguments
// after `koncli` (kubectl finds kubectl-koncli on PATH). Same entry as `koncli`.
import './run.js';
