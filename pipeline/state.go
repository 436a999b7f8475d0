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
	// extract (it is merged with what changed since Watermark).
	RunID string `json:"run_id,omitempty"`
	// Watermark is the largest updated_at (Unix seconds) that extract saw; the next
	// incremental extract asks for updated_at after Watermark minus an overlap.
	Watermark int64 `json:"watermark,omitempty"`
	// Site is the Chargebee site the watermark belongs to; another site starts over.
	Site string `json:"site,omitempty"`
}

// SyncedState points at the synced snapshot of the last load that finished.
type SyncedState struct {
	RunID    string    `json:"run_id"`
	Dir      string    `json:"dir"` // data-dir relative: runs/<id>/load/synced
	SyncedAt time.Time `json:"synced_at"`
}

// ACState is the ActiveCampaign setup cache (list, connection and field ids).
type ACState = load.Setup

const stateVersion = 1

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
	return s, nil
}

// Save writes state.json atomically.
func (s *State) Save(dataDir string) error {
	s.Version = stateVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, atomicfile.DirMode); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return atomicfile.WriteFile(StatePath(dataDir), append(b, '\n'))
}
