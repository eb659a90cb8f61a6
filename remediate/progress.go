package remediate

import "time"

// Progress is told how an apply advances, for a progress bar. Its methods
// are called from the goroutine of [Apply] or [Resume], one at a time.
type Progress interface {
	// Changed says that done of the total hosts to change have had their
	// API call, failed of them refused.
	Changed(done, total, failed int)
	// Verified says that shown of the total changed hosts show the new
	// setting in the 2FA host list, elapsed after verification began.
	Verified(shown, total int, elapsed time.Duration)
	// Finish is called once, when the apply ends.
	Finish()
}

type noProgress struct{}

func (noProgress) Changed(int, int, int)            {}
func (noProgress) Verified(int, int, time.Duration) {}
func (noProgress) Finish()                          {}
