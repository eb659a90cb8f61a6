package contract

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
)

// DefaultSortMemory is how many bytes of encoded decisions a
// [DecisionSorter] holds before it spills a sorted run to disk.
const DefaultSortMemory = 8 << 20

// DecisionSorter gathers decisions in any order and gives them back sorted
// by host, without holding a large fleet in memory: decisions are kept
// JSON-encoded, and past a memory bound each batch is sorted and written
// to a temporary file as a run; [DecisionSorter.Sorted] merges the runs.
// It also counts the decisions by status for the report summary.
//
// Add, Sorted and Close must not be called concurrently.
type DecisionSorter struct {
	dir   string
	limit int

	buf     []sortItem
	bufSize int

	spill   *os.File
	runs    []sortRun // sections of spill
	written int64

	summary map[Status]int
	n       int
	seq     uint64
	done    bool
}

type sortItem struct {
	host string
	seq  uint64
	data []byte
}

type sortRun struct{ off, n int64 }

// NewDecisionSorter returns a sorter that spills to temporary files in dir
// ("" for the system default) once it holds more than memory bytes of
// encoded decisions (0 for [DefaultSortMemory]).
func NewDecisionSorter(dir string, memory int) *DecisionSorter {
	if memory <= 0 {
		memory = DefaultSortMemory
	}
	s := &DecisionSorter{dir: dir, limit: memory, summary: make(map[Status]int, len(Statuses))}
	for _, st := range Statuses {
		s.summary[st] = 0
	}
	return s
}

// Add takes one decision.
func (s *DecisionSorter) Add(d Decision) error {
	if s.done {
		return errors.New("sort decisions: Add after Sorted")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("sort decisions: %w", err)
	}
	s.summary[d.Status]++
	s.n++
	s.seq++
	s.buf = append(s.buf, sortItem{host: d.Host, seq: s.seq, data: data})
	s.bufSize += len(data) + len(d.Host) + 64
	if s.bufSize >= s.limit {
		return s.flush()
	}
	return nil
}

// Len is the number of decisions added.
func (s *DecisionSorter) Len() int { return s.n }

// Summary counts the decisions added by status; every status of
// [Statuses] is present.
func (s *DecisionSorter) Summary() map[Status]int {
	out := make(map[Status]int, len(s.summary))
	for k, v := range s.summary {
		out[k] = v
	}
	return out
}

func (s *DecisionSorter) sortBuf() {
	slices.SortFunc(s.buf, func(a, b sortItem) int {
		if c := strings.Compare(a.host, b.host); c != 0 {
			return c
		}
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
}

// flush writes the buffer as one sorted run.
func (s *DecisionSorter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	if s.spill == nil {
		f, err := os.CreateTemp(s.dir, "factorgate-sort-*")
		if err != nil {
			return fmt.Errorf("sort decisions: %w", err)
		}
		s.spill = f
	}
	s.sortBuf()
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.spill, s.written), 1<<16)
	var hdr [3 * binary.MaxVarintLen64]byte
	var size int64
	for _, it := range s.buf {
		n := binary.PutUvarint(hdr[:], it.seq)
		n += binary.PutUvarint(hdr[n:], uint64(len(it.host)))
		n += binary.PutUvarint(hdr[n:], uint64(len(it.data)))
		for _, b := range [][]byte{hdr[:n], []byte(it.host), it.data} {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("sort decisions: %w", err)
			}
			size += int64(len(b))
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sort decisions: %w", err)
	}
	s.runs = append(s.runs, sortRun{off: s.written, n: size})
	s.written += size
	clear(s.buf)
	s.buf = s.buf[:0]
	s.bufSize = 0
	return nil
}

// Sorted yields every decision added, sorted by host (decisions of the
// same host in the order they were added). It may be ranged over once;
// Add may not be called after it.
func (s *DecisionSorter) Sorted() iter.Seq2[Decision, error] {
	return func(yield func(Decision, error) bool) {
		if s.done {
			yield(Decision{}, errors.New("sort decisions: Sorted called twice"))
			return
		}
		s.done = true
		if len(s.runs) == 0 {
			s.sortBuf()
			for i, it := range s.buf {
				var d Decision
				err := json.Unmarshal(it.data, &d)
				s.buf[i].data = nil
				if !yield(d, err) || err != nil {
					return
				}
			}
			s.buf = nil
			return
		}
		if err := s.flush(); err != nil {
			yield(Decision{}, err)
			return
		}
		s.buf = nil
		s.merge(yield)
	}
}

// merge yields the runs merged, smallest host first.
func (s *DecisionSorter) merge(yield func(Decision, error) bool) {
	h := &runHeap{}
	for _, r := range s.runs {
		rr := &runReader{br: bufio.NewReaderSize(io.NewSectionReader(s.spill, r.off, r.n), 32<<10)}
		ok, err := rr.next()
		if err != nil {
			yield(Decision{}, err)
			return
		}
		if ok {
			h.items = append(h.items, rr)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		rr := h.items[0]
		var d Decision
		if err := json.Unmarshal(rr.cur.data, &d); err != nil {
			yield(Decision{}, fmt.Errorf("sort decisions: %w", err))
			return
		}
		if !yield(d, nil) {
			return
		}
		ok, err := rr.next()
		if err != nil {
			yield(Decision{}, err)
			return
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
}

// Close removes the temporary file, if any. It is safe to call more than
// once.
func (s *DecisionSorter) Close() error {
	s.buf = nil
	if s.spill == nil {
		return nil
	}
	name := s.spill.Name()
	err := s.spill.Close()
	s.spill = nil
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

type runReader struct {
	br  *bufio.Reader
	cur sortItem
}

// next reads the following record of the run; false at its end.
func (r *runReader) next() (bool, error) {
	seq, err := binary.ReadUvarint(r.br)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort decisions: read run: %w", err)
	}
	hl, err := binary.ReadUvarint(r.br)
	if err != nil {
		return false, fmt.Errorf("sort decisions: read run: %w", err)
	}
	dl, err := binary.ReadUvarint(r.br)
	if err != nil {
		return false, fmt.Errorf("sort decisions: read run: %w", err)
	}
	b := make([]byte, hl+dl)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return false, fmt.Errorf("sort decisions: read run: %w", err)
	}
	r.cur = sortItem{host: string(b[:hl]), seq: seq, data: b[hl:]}
	return true, nil
}

type runHeap struct{ items []*runReader }

func (h *runHeap) Len() int { return len(h.items) }
func (h *runHeap) Less(i, j int) bool {
	a, b := h.items[i].cur, h.items[j].cur
	if a.host != b.host {
		return a.host < b.host
	}
	return a.seq < b.seq
}
func (h *runHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *runHeap) Push(x any)    { h.items = append(h.items, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
