package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/stages/load"
)

// State is data/state.json: what survives between runs. It moves forward only when a
// job has fully succeeded, so a failed or killed run leaves the last good state.
type State struct {
	Version int `json:"version"`

	// Extract is the Chargebee side: the last extract that fed a successful job.
	Extract ExtractState `json:"extract"`

	// Synced is the last snapshot known to be in ActiveCampaign (set by load).
	Synced *SyncedState `json:"synced,omitempty"`

	// AC caches the ids load resolved in ActiveCampaign, so a nightly run does not
	// look them up again. APIURL says which account they belong to.
	AC *ACState `json:"ac,omitempty"`
}

// ExtractState is the incremental extract's anchor.
type ExtractState struct {
	// RunID is the run whose extract folder is the base for the next incremental
	// extract (each list is merged with what changed in it since its watermark).
	RunID string `json:"run_id,omitempty"`
	// Watermark is the newest of Lists, for people reading the file. Version 1
	// had only this one watermark for every list; the reads never use it.
	Watermark int64 `json:"watermark,omitempty"`
	// Site is the Chargebee site the watermarks belong to; another site starts over.
	Site string `json:"site,omitempty"`
	// Format is the extract format of RunID's extract (extract.Format). A base of
	// another format (0: a version-1 state.json or an extract from before formats)
	// is not merged into: every list is read in full.
	Format int64 `json:"format,omitempty"`
	// Lists are the per-list watermarks: the largest updated_at (Unix seconds) the
	// list's last successful read saw. The next incremental read asks each list
	// for updated_at after its own watermark minus an overlap; a list with none is
	// read in full. A list skipped as not on the site keeps its watermark.
	Lists map[string]int64 `json:"lists,omitempty"`
}

// SyncedState points at the synced snapshot of the last load that finished.
type SyncedState struct {
	RunID    string    `json:"run_id"`
	Dir      string    `json:"dir"` // data-dir relative: runs/<id>/load/synced
	SyncedAt time.Time `json:"synced_at"`
}

// ACState is the ActiveCampaign setup cache (list, connection and field ids).
type ACState = load.Setup

// stateVersion 2: per-list extract watermarks (ExtractState.Lists, Format).
// Version 1 files are read and upgraded: their one watermark cannot say which
// lists it really covers (it moved even for lists that were skipped), so it is
// kept for show only and the next extract reads every list in full.
const stateVersion = 2

// StatePath is data/state.json.
func StatePath(dataDir string) string { return filepath.Join(dataDir, "state.json") }

// LoadState reads state.json; a missing file is the empty state of a first run.
func LoadState(dataDir string) (*State, error) {
	b, err := os.ReadFile(StatePath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: stateVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s := &State{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("state %s: %w", StatePath(dataDir), err)
	}
	if s.Version > stateVersion {
		return nil, fmt.Errorf("state %s: version %d is newer than this cb2ac understands (%d)", StatePath(dataDir), s.Version, stateVersion)
	}
	if s.Version < 2 {
		// Version 1: one watermark for every list and no format. Format 0 never
		// matches extract.Format, so the next extract reads every list in full
		// and writes per-list watermarks; the rest of the file is unchanged.
		s.Extract.Format, s.Extract.Lists = 0, nil
		s.Version = stateVersion
	}
	return s, nil
}

// Save writes state.json atomically.
func (s *State) Save(dataDir string) error {
	s.Version = stateVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if m, _ := mountOf(dataDir); m != nil {
		if err := m.saveState(b); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dataDir, atomicfile.DirMode); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return atomicfile.WriteFile(StatePath(dataDir), b)
}
