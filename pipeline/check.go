package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cb2ac/cb2ac/stages/extract"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
	"github.com/cb2ac/cb2ac/stages/load"
	"github.com/cb2ac/cb2ac/stages/load/ac"
)

// CheckRequest says what a run will use, so the check asks only about that.
type CheckRequest struct {
	// Source and In are the extract's (--source, --in): only the API source is
	// checked against Chargebee.
	Source, In string
	// DryRun skips ActiveCampaign: a plan-only load sends nothing.
	DryRun bool
}

// CheckError is what `cb2ac check` found wrong: one problem a line.
type CheckError struct{ Problems []string }

func (e *CheckError) Error() string { return strings.Join(e.Problems, "\n") }

// checkTimeout bounds the whole check: it is there to fail in seconds, before the
// long part of a run.
const checkTimeout = 2 * time.Minute

// checkMaxRetries bounds the Chargebee check's retries (a 5xx or a 429): enough to
// ride out a blip, not the extract's patience.
const checkMaxRetries = 3

// Check proves, with a few cheap read requests, that a run can read Chargebee and
// write ActiveCampaign: the Chargebee key and site (one customer), the AC token,
// the list, and that cb2ac's custom fields exist or can be created (nothing is
// created). What is fine is printed to Out; every problem is a line of the
// returned *CheckError. A source other than the API skips Chargebee; DryRun, or no
// AC account configured, skips ActiveCampaign.
func (p *Pipeline) Check(ctx context.Context, req CheckRequest) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var problems []string
	add := func(part string, err error) {
		problems = append(problems, "check "+part+": "+strings.Join(strings.Fields(err.Error()), " "))
	}

	opts := extract.Options{Source: req.Source, In: req.In}
	if err := p.ResolveSource(&opts); err != nil {
		add("chargebee", err)
	} else if opts.Source != extract.SourceChargebee {
		fmt.Fprintf(p.Out, "%-9s chargebee skipped: --source %s reads no API\n", "check", opts.Source)
	} else if url, err := p.checkChargebee(ctx); err != nil {
		add("chargebee", err)
	} else {
		fmt.Fprintf(p.Out, "%-9s chargebee ok: %s answers, the key is accepted\n", "check", url)
	}

	switch {
	case req.DryRun:
		fmt.Fprintf(p.Out, "%-9s activecampaign skipped: --dry-run sends nothing\n", "check")
	case p.ACURL() == "":
		fmt.Fprintf(p.Out, "%-9s activecampaign skipped: %v\n", "check", errNoAC)
	default:
		if msg, errs := p.checkAC(ctx); len(errs) > 0 {
			for _, err := range errs {
				add("activecampaign", err)
			}
		} else {
			fmt.Fprintf(p.Out, "%-9s activecampaign ok: %s\n", "check", msg)
		}
	}
	if len(problems) > 0 {
		return &CheckError{Problems: problems}
	}
	return nil
}

// checkChargebee reads one customer.
func (p *Pipeline) checkChargebee(ctx context.Context) (string, error) {
	cfg, err := p.chargebeeClientConfig()
	if err != nil {
		return "", err
	}
	if cfg.MaxRetries == 0 || cfg.MaxRetries > checkMaxRetries {
		cfg.MaxRetries = checkMaxRetries
	}
	cfg.Log = p.Log.With("stage", "check")
	c, err := chargebee.NewClient(cfg)
	if err != nil {
		return "", err
	}
	if _, err := c.ListPage(ctx, "customers", chargebee.ListQuery{Limit: 1}); err != nil {
		return "", err
	}
	return c.BaseURL(), nil
}

// checkAC asks what load's setup would ask, creating nothing.
func (p *Pipeline) checkAC(ctx context.Context) (string, []error) {
	cfg := p.Cfg.ActiveCampaign
	cfg.APIURL = p.ACURL()
	token, err := Secret("AC_API_TOKEN")
	if err == nil && token == "" {
		err = errors.New("no ActiveCampaign token: set AC_API_TOKEN or AC_API_TOKEN_FILE")
	}
	if err != nil {
		return "", []error{err}
	}
	c, err := ac.New(ac.Config{APIURL: cfg.APIURL, Token: token, RateLimit: cfg.RateLimit, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts, ImportRateWait: cfg.ImportRateWait})
	if err != nil {
		return "", []error{err}
	}
	list, create, errs := load.CheckSetup(ctx, c, cfg, p.Cfg.Transform.Fields())
	if len(errs) > 0 {
		return "", errs
	}
	return fmt.Sprintf("%s, token accepted, list %q (id %s), %d custom fields to create at the first load", cfg.APIURL, list.Name, list.ID, create), nil
}
