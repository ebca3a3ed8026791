#!/usr/bin/env node
// kubectl's completion of `kubectl koncli …` (kubectl ≥ 1.26 runs kubectl_complete-koncli from PATH
// with the words typed): the same entry, which turns this name into `koncli __complete …`.
import './run.js';
