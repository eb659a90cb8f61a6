// Package termtext makes text from hosts, clouds and policies fit to show a
// person on a terminal or in a text report: [Clean] removes what could
// mislead a reader (terminal escape sequences, controls, bidirectional
// overrides), [Width] measures it in terminal columns, and [Truncate],
// [Pad] and [Wrap] lay it out to fit a width.
package termtext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Clean makes text from a host or a policy safe to show a person on one
// line; see [CleanLines].
func Clean(s string) string { return clean(s, false) }

// CleanLines is [Clean] that keeps line breaks, as \n.
func CleanLines(s string) string { return clean(s, true) }

// clean makes text from a host or a policy safe to show a person: it
// removes terminal escape sequences whole (CSI such as "ESC [ 31 m", OSC
// such as a window title "ESC ] 0 ; ... BEL", DCS, SOS, PM, APC and
// two-character escapes, in their 7-bit and C1 forms), drops Unicode
// bidirectional controls (which make a viewer show text in another order
// than it holds), and turns the other C0 and C1 controls and the Unicode
// line and paragraph separators into spaces. With keepLines, line breaks
// (\n, \r\n, \r) are kept as \n.
func clean(s string, keepLines bool) string {
	if strings.IndexFunc(s, IsUnsafe) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\x1b' && i+n < len(s):
			i += n + escapeLen(s[i+n:])
			continue
		case r == '\u009b':
			i += n + csiLen(s[i+n:])
			continue
		case r == '\u0090' || r == '\u0098' || r == '\u009d' || r == '\u009e' || r == '\u009f':
			i += n + stringLen(s[i+n:])
			continue
		case keepLines && r == '\r':
			b.WriteByte('\n')
			if strings.HasPrefix(s[i+n:], "\n") {
				n++
			}
		case keepLines && r == '\n':
			b.WriteByte('\n')
		case IsBidiControl(r):
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// escapeLen is the length of the rest of an escape sequence that started
// with ESC and goes on with s.
func escapeLen(s string) int {
	switch s[0] {
	case '[':
		return 1 + csiLen(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringLen(s[1:])
	}
	// nF: intermediates 0x20-0x2F, then a final byte 0x30-0x7E; else one
	// byte 0x30-0x7E (Fp, Fe, Fs). Anything else leaves the ESC alone.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		return i + 1
	}
	return i
}

// csiLen is the length of a control sequence's parameters, intermediates
// and final byte at the start of s.
func csiLen(s string) int {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// stringLen is the length of a control string (OSC, DCS, ...) at the
// start of s, up to and with its terminator: BEL, ESC \ or ST (U+009C).
// An unterminated string runs to the end of s.
func stringLen(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\a' || r == '\u009c':
			return i + n
		case r == '\x1b' && strings.HasPrefix(s[i+n:], `\`):
			return i + n + 1
		}
		i += n
	}
	return len(s)
}

// IsUnsafe reports whether r is a C0 or C1 control, a bidirectional
// control or a line or paragraph separator: text from a host must not
// carry one to a terminal or a viewer as it is.
func IsUnsafe(r rune) bool {
	return unicode.IsControl(r) || IsBidiControl(r) || r == '\u2028' || r == '\u2029'
}

// IsBidiControl reports whether r is a Unicode bidirectional control
// (the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069,
// the marks U+200E, U+200F and U+061C), which make a terminal or a viewer
// show text in another order than it holds: "web-\u202e10-bew" reads as
// web-wew-01.
func IsBidiControl(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// runeWidth is the number of terminal columns r takes: two for East Asian
// wide and fullwidth characters, none for combining marks and format
// characters, one for the rest.
func runeWidth(r rune) int {
	if r < 0x300 { // ASCII and Latin: no wide character, no combining mark
		if r == '\u00ad' {
			return 0
		}
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return 0
	}
	return 1
}

// Width is the number of terminal columns s takes on one line.
func Width(s string) int {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// Ellipsis ends a text cut to fit; ASCII, so that it takes the columns it
// seems to on any terminal.
const Ellipsis = "..."

// Truncate cuts s to at most w columns, ending it with [Ellipsis] when
// anything was cut.
func Truncate(s string, w int) string {
	if Width(s) <= w {
		return s
	}
	if w <= len(Ellipsis) {
		return Ellipsis[:max(w, 0)]
	}
	n, cut := 0, 0
	for i, r := range s {
		if n+runeWidth(r) > w-len(Ellipsis) {
			cut = i
			break
		}
		n += runeWidth(r)
	}
	return s[:cut] + Ellipsis
}

// Pad is s followed by spaces to w columns.
func Pad(s string, w int) string {
	if n := Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// Wrap lays text out in lines of at most width columns, the first
// starting with first and the others with indent. Words are split at
// spaces; a word longer than a line is cut where the line ends and goes
// on in the next. Empty text gives no line.
func Wrap(first, indent, text string, width int) []string {
	return Wrapper{Width: width, Split: SplitWidth}.Wrap(first, indent, text)
}

// wrapper lays out words in lines of at most width columns. A word longer
// than a line is cut by split, the cut marked by cutEnd at the end of a
// line and cutStart at the start of the next (for Markdown, an HTML
// comment across the line break, which renders as nothing).
type Wrapper struct {
	Width            int
	Split            func(word string, w int) (head, tail string)
	CutEnd, CutStart string
	// LineStart, if set, adjusts a word that starts a line but the first.
	LineStart func(word string) string
}

func (wr Wrapper) Wrap(first, indent, text string) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	line, lineW := first, Width(first)
	fresh := true // nothing on the line but its lead
	newLine := func(lead string) {
		lines = append(lines, line)
		line, lineW, fresh = indent+lead, Width(indent+lead), true
	}
	for _, word := range words {
		ww := Width(word)
		if !fresh && lineW+1+ww > wr.Width {
			newLine("")
		}
		if fresh && len(lines) > 0 && wr.LineStart != nil && lineW == Width(indent) {
			word = wr.LineStart(word)
			ww = Width(word)
		}
		if !fresh {
			line += " "
			lineW++
		}
		// A word longer than what is left of the line is cut.
		for lineW+ww > wr.Width {
			head, tail := wr.Split(word, wr.Width-lineW-Width(wr.CutEnd))
			if head == "" || tail == "" {
				break
			}
			line += head + wr.CutEnd
			newLine(wr.CutStart)
			word, ww = tail, Width(tail)
		}
		line += word
		lineW += ww
		fresh = false
	}
	return append(lines, line)
}

// SplitWidth splits s after at most w columns.
func SplitWidth(s string, w int) (string, string) {
	n := 0
	for i, r := range s {
		if n+runeWidth(r) > w {
			return s[:i], s[i:]
		}
		n += runeWidth(r)
	}
	return s, ""
}

// Nearest returns the candidate a person most likely meant by s, for a
// "did you mean" hint: the closest in edit distance (a swap of two
// neighbours counts as one edit; case and "-" for "_" do not count) if it
// is close enough to be a slip (at most 2 edits, 1 for words of 3 letters
// or fewer), else the one s is the start of; "" when none is.
func Nearest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), "-", "_") }
	ns := norm(s)
	best, bestD := "", 3
	if len(ns) <= 3 {
		bestD = 2
	}
	for _, c := range candidates {
		if d := editDistance(ns, norm(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(ns) >= 2 {
		for _, c := range candidates {
			if strings.HasPrefix(norm(c), ns) {
				return c
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, with a swap of two
// neighbours counted as one edit. Words longer than 64 runes are far from
// everything (the cost is quadratic).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 99
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
