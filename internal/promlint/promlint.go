// Package promlint checks a Prometheus text-format file against the rules
// `promtool check metrics` applies (client_golang's promlint), for the tests: promtool
// is not a build dependency. It parses with prometheus/common's text parser, so a
// file it accepts is one Prometheus and node_exporter can read.
package promlint

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Problem is one rule a metric family breaks.
type Problem struct {
	Metric string
	Text   string
}

func (p Problem) String() string { return p.Metric + ": " + p.Text }

// Lint parses data and returns the rules it breaks, sorted by metric name. The
// error is a parse error: the file is not the text format at all.
//
// The rules are promtool's (promlint): a HELP text; counters end in _total and
// nothing else does; _count, _sum and _bucket only on histograms and summaries, le
// only on histograms, quantile only on summaries; base units (seconds, bytes, not
// milliseconds or kilobytes) and no unit abbreviations (ms, sec, kb...); no type in
// the name (_gauge, _counter...); no ':' (reserved for recording rules);
// snake_case names and labels; no series twice. Beyond promtool: every family has
// an explicit TYPE line, an _info family is a gauge of 1s, and a time (timestamp,
// duration, watermark) says its unit, _seconds.
func Lint(data []byte) ([]Problem, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []Problem
	add := func(name, format string, args ...any) {
		out = append(out, Problem{Metric: name, Text: fmt.Sprintf(format, args...)})
	}
	typed := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "#" && f[1] == "TYPE" {
			typed[f[2]] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(families)) {
		mf := families[name]
		typ := mf.GetType().String() // COUNTER, GAUGE, HISTOGRAM, GAUGE_HISTOGRAM, SUMMARY, UNTYPED
		if !typed[name] {
			add(name, "no TYPE line")
		}
		if mf.Help == nil || strings.TrimSpace(mf.GetHelp()) == "" {
			add(name, "no help text")
		}
		isCounter := typ == "COUNTER"
		isHist := typ == "HISTOGRAM" || typ == "GAUGE_HISTOGRAM"
		isSummary := typ == "SUMMARY"
		switch {
		case isCounter && !strings.HasSuffix(name, "_total"):
			add(name, `counter metrics should have "_total" suffix`)
		case !isCounter && strings.HasSuffix(name, "_total"):
			add(name, `non-counter metrics should not have "_total" suffix`)
		}
		if !isHist && !isSummary {
			for _, suf := range []string{"_count", "_sum", "_bucket"} {
				if strings.HasSuffix(name, suf) {
					add(name, "non-histogram and non-summary metrics should not have %q suffix", suf)
				}
			}
		}
		for _, t := range []string{"gauge", "counter", "histogram", "summary", "untyped"} {
			if strings.HasSuffix(name, "_"+t) || strings.Contains(name, "_"+t+"_") {
				add(name, "metric name should not include type '%s'", t)
			}
		}
		parts := strings.Split(name, "_")
		for _, p := range parts {
			if base, ok := nonBaseUnits[p]; ok {
				add(name, "use base unit %q instead of %q", base, p)
			}
			if slices.Contains(unitAbbreviations, p) {
				add(name, "metric names should not contain abbreviated units (%q)", p)
			}
		}
		if strings.Contains(name, ":") {
			add(name, "metric names should not contain ':'")
		}
		if strings.ToLower(name) != name {
			add(name, "metric names should be written in 'snake_case' not 'camelCase'")
		}
		if strings.HasSuffix(name, "_info") && typ != "GAUGE" {
			add(name, "an _info metric is a gauge")
		}
		for _, time := range []string{"timestamp", "duration", "watermark"} {
			if slices.Contains(parts, time) && !strings.HasSuffix(name, "_seconds") {
				add(name, "a %s should say its unit: end in _seconds", time)
			}
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			var key []string
			for _, lp := range m.GetLabel() {
				ln := lp.GetName()
				key = append(key, ln+"="+lp.GetValue())
				if strings.ToLower(ln) != ln {
					add(name, "label names should be written in 'snake_case' not 'camelCase' (%s)", ln)
				}
				if ln == "le" && !isHist {
					add(name, `non-histogram metrics should not have "le" label`)
				}
				if ln == "quantile" && !isSummary {
					add(name, `non-summary metrics should not have "quantile" label`)
				}
			}
			slices.Sort(key)
			k := strings.Join(key, ",")
			if seen[k] {
				add(name, "metric not unique: {%s} twice", k)
			}
			seen[k] = true
			if strings.HasSuffix(name, "_info") && m.GetGauge().GetValue() != 1 {
				add(name, "an _info metric's value is 1")
			}
		}
	}
	return out, nil
}

// nonBaseUnits maps a unit promlint refuses to the base unit it asks for.
var nonBaseUnits = map[string]string{
	"nanoseconds": "seconds", "microseconds": "seconds", "milliseconds": "seconds",
	"minutes": "seconds", "hours": "seconds", "days": "seconds", "weeks": "seconds",
	"kilobytes": "bytes", "megabytes": "bytes", "gigabytes": "bytes", "terabytes": "bytes",
	"kibibytes": "bytes", "mebibytes": "bytes", "gibibytes": "bytes",
	"kilometers": "meters", "millimeters": "meters", "centimeters": "meters",
	"fahrenheit": "celsius", "kelvin": "celsius",
	"percent": "ratio",
}

// unitAbbreviations are promlint's abbreviated units, refused as a whole name part.
var unitAbbreviations = []string{"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"}
