package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// duckdbPackage is the npm package of DuckDB's Node API (the "neo" client).
const duckdbPackage = "@duckdb/node-api"

// diffScript times DuckDB doing cb2ac's diff: a FULL OUTER JOIN of the new snapshot
// with the key and row_hash of the synced one, writing every changed row (created,
// updated or deleted) to Parquet. The timer covers the two COPY statements only, not
// starting node or loading DuckDB.
const diffScript = `// written by scripts/bench: DuckDB doing cb2ac's key + row_hash diff
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';

const [oldDir, newDir, outDir, resultFile] = process.argv.slice(2);
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const version = (await (await con.run('SELECT version()')).getRows())[0][0];
const threads = (await (await con.run("SELECT current_setting('threads')")).getRows())[0][0];
const res = { version, threads: Number(threads), entities: {} };
const t0 = performance.now();
for (const [name, key] of [['contacts', 'customerId'], ['recurring_payments', 'storeRecurringPaymentId']]) {
  const t = performance.now();
  const out = outDir + '/' + name + '_changed.parquet';
  await con.run(` + "`" + `COPY (
      SELECT coalesce(n."${key}", o.k) AS key,
             CASE WHEN o.k IS NULL THEN 'create' WHEN n."${key}" IS NULL THEN 'delete' ELSE 'update' END AS op,
             n.*
      FROM read_parquet(${q(newDir + '/' + name + '.parquet')}) n
      FULL OUTER JOIN (SELECT "${key}" AS k, row_hash AS h FROM read_parquet(${q(oldDir + '/' + name + '.parquet')})) o
        ON n."${key}" = o.k
      WHERE n.row_hash IS DISTINCT FROM o.h
    ) TO ${q(out)} (FORMAT parquet)` + "`" + `);
  const ms = performance.now() - t;
  const rows = (await (await con.run(` + "`" + `SELECT op, count(*)::INTEGER FROM read_parquet(${q(out)}) GROUP BY op` + "`" + `)).getRows());
  res.entities[name] = { ms, ops: Object.fromEntries(rows.map(([op, n]) => [op, Number(n)])) };
}
res.total_ms = Object.values(res.entities).reduce((a, e) => a + e.ms, 0);
res.wall_ms = performance.now() - t0;
writeFileSync(resultFile, JSON.stringify(res));
`

type duckResult struct {
	Version  string                `json:"version"`
	Threads  int                   `json:"threads"`
	Entities map[string]duckEntity `json:"entities"`
	QueryMS  float64               `json:"total_ms"`
	P        proc                  `json:"proc"`
}

type duckEntity struct {
	MS  float64          `json:"ms"`
	Ops map[string]int64 `json:"ops"`
}

// installDuckDB makes sure node can import @duckdb/node-api from the cache folder,
// installing it with npm when missing. It returns "" when DuckDB is usable, else why
// it is not.
func (b *bench) installDuckDB(ctx context.Context) string {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed: the DuckDB comparison was skipped"
		}
	}
	dir, err := filepath.Abs(b.o.duckdbDir)
	if err != nil {
		return err.Error()
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(duckdbPackage), "package.json")); err != nil {
		fmt.Printf("bench: npm install --prefix %s %s\n", dir, duckdbPackage)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err.Error()
		}
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", duckdbPackage)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Sprintf("npm install %s failed (%v): the DuckDB comparison was skipped", duckdbPackage, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "diff.mjs"), []byte(diffScript), 0o644); err != nil {
		return err.Error()
	}
	return ""
}

// duckDiff runs the diff script on the synced (old) and transform (new) folders.
func (b *bench) duckDiff(n int, oldDir, newDir, outDir string) (*duckResult, error) {
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, err
	}
	dir, _ := filepath.Abs(b.o.duckdbDir)
	resultFile := filepath.Join(outDir, "result.json")
	p, err := b.r.run(fmt.Sprintf("%d-duckdb-diff", n), b.env, nil, "node", filepath.Join(dir, "diff.mjs"), oldDir, newDir, outDir, resultFile)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(resultFile)
	if err != nil {
		return nil, err
	}
	dr := &duckResult{P: p}
	if err := json.Unmarshal(raw, dr); err != nil {
		return nil, fmt.Errorf("duckdb result: %w", err)
	}
	dr.Version = strings.TrimSpace(dr.Version)
	return dr, nil
}
