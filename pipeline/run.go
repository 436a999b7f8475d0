package pipeline

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/schemas"
)

// Stage names, in pipeline order. They are also the folder names inside a run.
const (
	StageExtract   = "extract"
	StageValidate  = "validate"
	StageTransform = "transform"
	StageLoad      = "load"
)

// Stage statuses in the manifest.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// RunIDLayout is a run id: the UTC start time, sortable as text.
const RunIDLayout = "20060102T150405Z"

var runIDPattern = regexp.MustCompile(`^\d{8}T\d{6}Z(-[0-9]+)?$`)

// Version is the tool version written into manifests (set by main).
var Version = "dev"

// Manifest is runs/<id>/manifest.json: what each stage of the run did.
type Manifest struct {
	RunID       string                  `json:"run_id"`
	ToolVersion string                  `json:"tool_version"`
	Stages      map[string]*StageRecord `json:"stages"`
}

// StageRecord is one stage's entry in the manifest.
type StageRecord struct {
	Status      string           `json:"status"`
	StartedAt   time.Time        `json:"started_at"`
	EndedAt     *time.Time       `json:"ended_at,omitempty"`
	DurationMS  int64            `json:"duration_ms,omitempty"`
	ToolVersion string           `json:"tool_version"`
	ConfigHash  string           `json:"config_hash"`
	Inputs      []Input          `json:"inputs,omitempty"`
	Counts      map[string]int64 `json:"counts,omitempty"`
	Files       []FileRecord     `json:"files,omitempty"`
	// Drift: the fields Chargebee sent that its SDK does not declare, per list
	// (extract; see README "Schema drift").
	Drift []schemas.Drift `json:"drift,omitempty"`
	Error string          `json:"error,omitempty"`
}

// Input names what a stage read: another run's stage folder, or an outside folder
// (pages) with no run id.
type Input struct {
	RunID string `json:"run_id,omitempty"`
	Stage string `json:"stage,omitempty"`
	Dir   string `json:"dir"`
}

// FileRecord describes one output file.
type FileRecord struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Run is one run folder.
type Run struct {
	ID  string
	Dir string
}

// NewRunID makes a run id from a start time.
func NewRunID(t time.Time) string { return t.UTC().Format(RunIDLayout) }

// CheckRunID rejects ids that would escape runs/ or not sort by time.
func CheckRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q: want the form 20261123T020000Z", id)
	}
	return nil
}

// RunsDir is data/runs.
func RunsDir(dataDir string) string { return filepath.Join(dataDir, "runs") }

// OpenRun returns the run folder of id (creating it when create is set).
func OpenRun(dataDir, id string, create bool) (*Run, error) {
	if err := CheckRunID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(RunsDir(dataDir), id)
	if create {
		if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
			return nil, fmt.Errorf("run %s: %w", id, err)
		}
	} else if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("run %s: no such run in %s", id, RunsDir(dataDir))
	}
	return &Run{ID: id, Dir: dir}, nil
}

// ListRuns returns the run ids in data/runs, oldest first.
func ListRuns(dataDir string) ([]string, error) {
	ents, err := os.ReadDir(RunsDir(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && runIDPattern.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, compareRunIDs) // …Z-10 after …Z-9
	return ids, nil
}

// LatestRunWith returns the newest run whose stage succeeded.
func LatestRunWith(dataDir, stage string) (*Run, error) {
	ids, err := ListRuns(dataDir)
	if err != nil {
		return nil, err
	}
	for i := len(ids) - 1; i >= 0; i-- {
		r := &Run{ID: ids[i], Dir: filepath.Join(RunsDir(dataDir), ids[i])}
		m, err := r.Manifest()
		if err != nil {
			continue
		}
		if s := m.Stages[stage]; s != nil && s.Status == StatusSucceeded {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no run in %s has a successful %s stage; run `cb2ac %s` first", RunsDir(dataDir), stage, stage)
}

// StageDir is the folder a stage writes in this run.
func (r *Run) StageDir(stage string) string { return filepath.Join(r.Dir, stage) }

func (r *Run) manifestPath() string { return filepath.Join(r.Dir, "manifest.json") }

// Manifest reads the run's manifest (an empty one if none was written yet).
func (r *Run) Manifest() (*Manifest, error) {
	b, err := os.ReadFile(r.manifestPath())
	if errors.Is(err, os.ErrNotExist) {
		return &Manifest{RunID: r.ID, ToolVersion: Version, Stages: map[string]*StageRecord{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", r.manifestPath(), err)
	}
	if m.Stages == nil {
		m.Stages = map[string]*StageRecord{}
	}
	return m, nil
}

// setStage writes one stage's record into the manifest (atomically).
func (r *Run) setStage(stage string, rec *StageRecord) error {
	m, err := r.Manifest()
	if err != nil {
		return err
	}
	m.Stages[stage] = rec
	return r.writeManifest(m)
}

func (r *Run) writeManifest(m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.manifestPath(), append(b, '\n')); err != nil {
		return err
	}
	return publish(r.manifestPath())
}

// InputError says a folder cannot be used as a stage's input.
type InputError struct {
	Dir, Msg string
}

func (e *InputError) Error() string { return e.Dir + ": " + e.Msg }

// CheckInput verifies that dir is a stage folder (RUN/<stage>) whose manifest says the
// stage succeeded, and returns its description. A half-written folder is never input.
func CheckInput(dir, stage string) (Input, error) {
	dir = filepath.Clean(dir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return Input{}, &InputError{dir, "no such folder"}
	}
	if filepath.Base(dir) != stage {
		return Input{}, &InputError{dir, fmt.Sprintf("not a %s folder (want RUN/%s)", stage, stage)}
	}
	r := &Run{ID: filepath.Base(filepath.Dir(dir)), Dir: filepath.Dir(dir)}
	if _, err := os.Stat(r.manifestPath()); err != nil {
		return Input{}, &InputError{dir, "its run has no manifest.json, so nothing says the " + stage + " stage finished"}
	}
	m, err := r.Manifest()
	if err != nil {
		return Input{}, &InputError{dir, err.Error()}
	}
	rec := m.Stages[stage]
	switch {
	case rec == nil:
		return Input{}, &InputError{dir, fmt.Sprintf("the manifest has no %s stage", stage)}
	case rec.Status != StatusSucceeded:
		return Input{}, &InputError{dir, fmt.Sprintf("the %s stage did not succeed (status %s); re-run it", stage, rec.Status)}
	}
	if err := verifyFiles(dir, stage, rec.Files, "re-run the "+stage+" stage"); err != nil {
		return Input{}, err
	}
	return Input{RunID: m.RunID, Stage: stage, Dir: dir}, nil
}

// verifyFiles checks every file the manifest lists against its size and sha256,
// streaming each file through the hash once: a file replaced or changed after the
// stage wrote it (by hand, by another tool, a bad copy) is never used as input.
// remedy ends the message: what to do about it.
func verifyFiles(dir, stage string, files []FileRecord, remedy string) error {
	for _, want := range files {
		// A name is a file of the stage folder, or of one folder in it (load's
		// "synced/contacts.parquet"); never a way out of it.
		if want.Name == "" || !filepath.IsLocal(want.Name) || strings.Count(want.Name, "/") > 1 || want.SHA256 == "" {
			return &InputError{dir, fmt.Sprintf("the manifest's %s stage lists a bad file entry %q", stage, want.Name)}
		}
		path := filepath.Join(dir, want.Name)
		got, err := hashFile(path)
		if err != nil {
			return fmt.Errorf("%s, which the %s stage wrote, cannot be read (%w); %s", path, stage, err, remedy)
		}
		if got.Bytes != want.Bytes || got.SHA256 != want.SHA256 {
			return fmt.Errorf("%s is not the file the %s stage wrote (sha256 %.12s…, %d bytes; its manifest.json says %.12s…, %d bytes): it was replaced or changed; %s", path, stage, got.SHA256, got.Bytes, want.SHA256, want.Bytes, remedy)
		}
	}
	return nil
}

// hashFile streams a file through sha256 (never the whole file in memory).
func hashFile(path string) (FileRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		// In a bucket: the sha256 cb2ac computed when it uploaded the file,
		// from the object's metadata (a file replaced by anything else has
		// none, or another).
		if fr, ok, err := remoteFile(path); ok {
			return fr, err
		}
	}
	if err != nil {
		return FileRecord{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileRecord{}, err
	}
	return FileRecord{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// DescribeFiles lists a finished stage folder's files with rows, size and sha256,
// as the manifest records them (scripts/gen writes manifests with it too).
func DescribeFiles(dir string) ([]FileRecord, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []FileRecord
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		fr, err := describeFile(p)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", p, err)
		}
		out = append(out, fr)
	}
	return out, nil
}

func describeFile(path string) (FileRecord, error) {
	fr, err := hashFile(path)
	if err != nil {
		return fr, err
	}
	f, err := os.Open(path)
	if err != nil {
		return fr, err
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".parquet":
		pf, err := file.NewParquetReader(f)
		if err != nil {
			return fr, err
		}
		fr.Rows = pf.NumRows()
		pf.Close()
	case ".csv":
		cr := csv.NewReader(bufio.NewReader(f))
		cr.FieldsPerRecord = -1
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fr, err
			}
			fr.Rows++
		}
		fr.Rows = max(fr.Rows-1, 0) // header
	case ".jsonl":
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			fr.Rows++
		}
	}
	return fr, nil
}
