package debitura

import (
	"context"
	"iter"
)

// pageResult is one page as the generic walker sees it.
type pageResult[T any] struct {
	items       []T
	pageSize    int // the page size the server applied; 0 if it did not say
	totalPages  int // the page count the server reported; 0 if it did not say
	currentPage int // the page the server says it answered; 0 if it did not say
}

// maxPagesUnknown bounds a walk whose server never reports a page count.
const maxPagesUnknown = 10_000

// walkPages returns a lazy iterator over every item of a page-numbered list, starting at page
// first with pageSize items per page. fetch gets one page; key identifies an item so that an item
// seen twice (because the list shifted between two requests) is yielded once; an item whose key
// is "" is never treated as a duplicate.
//
// The walk ends, without error, at the first of: an empty page; a short page; the last page the
// server reports; a page that brings nothing new when the server ignored the page asked for (its
// currentPage differs) or reports neither its current page nor a page count; the page bound. A
// page of items already seen does not end a walk otherwise: on a list that grew in front, the
// items not seen yet have moved to later pages. The bound is the page count the first page
// reported plus a margin, so a list that grows while it is walked cannot keep the walk going
// forever. The first error is yielded as (zero, err) once and ends the
// walk; the walk also ends as soon as yield returns false.
//
// The iterator holds ctx for its lifetime; nothing is fetched until it is ranged over.
func walkPages[T any](ctx context.Context, first, pageSize int, fetch func(ctx context.Context, page int) (pageResult[T], error), key func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := make(map[string]struct{})
		last := first + maxPagesUnknown - 1
		for page := first; page <= last; page++ {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			res, err := fetch(ctx, page)
			if err != nil {
				yield(zero, err)
				return
			}
			if page == first && res.totalPages > 0 {
				remaining := max(res.totalPages-first+1, 1)
				last = first + remaining - 1 + pageMargin(remaining)
			}
			fresh := 0
			for _, it := range res.items {
				if k := key(it); k != "" {
					if _, dup := seen[k]; dup {
						continue
					}
					seen[k] = struct{}{}
				}
				fresh++
				if !yield(it, nil) {
					return
				}
			}
			size := pageSize
			if res.pageSize > 0 {
				size = res.pageSize
			}
			ignoredPage := res.currentPage > 0 && res.currentPage != page
			blind := res.currentPage == 0 && res.totalPages == 0
			switch {
			case len(res.items) == 0,
				len(res.items) < size,
				res.totalPages > 0 && page >= res.totalPages,
				fresh == 0 && (ignoredPage || blind):
				return
			}
		}
	}
}

// pageMargin is how many pages past the first page's count a walk may go while the list grows.
func pageMargin(pages int) int {
	return 2 + pages/10
}

// All returns an iterator over every client matching opts, walking the pages of GET /clients
// (100 per page unless opts.PageSize says otherwise, from opts.Page or 1). opts is copied, its
// pointer fields too: the caller's value is never changed, and changing it during the walk
// changes nothing. A nil opts lists everything.
//
// Unless opts.Sort says otherwise, All walks oldest first (SortDateCreatedAsc), not in the API's
// default order (newest first): clients linked during the walk then land after the ones already
// walked instead of pushing them onto pages already read, so no client that existed when the
// walk started is skipped. With another order, offset paging cannot promise that: a client added
// in front moves the others back by one, and the walk may end before the last of them.
//
// The iterator is lazy: no request is sent until it is ranged over, and it holds ctx for its
// lifetime. It yields (nil, err) once for the first error (a *[ValidationError] for bad options,
// an *[APIError], a transport error, or ctx's error) and stops; it stops as soon as the loop
// breaks. A client seen on two pages because the list shifted is yielded once, and the walk
// always ends, even when clients are added on every request.
//
// callOpts apply to every page request; a [WithResponse] destination holds the Response of the
// last page fetched.
func (s *ClientsService) All(ctx context.Context, opts *ClientListOptions, callOpts ...CallOption) iter.Seq2[*LinkedClient, error] {
	var o ClientListOptions
	if opts != nil {
		o = *opts
		if o.IsAttributedClient != nil {
			o.IsAttributedClient = Ptr(*o.IsAttributedClient)
		}
		if o.OnboardingDone != nil {
			o.OnboardingDone = Ptr(*o.OnboardingDone)
		}
	}
	if o.Sort == "" {
		o.Sort = SortDateCreatedAsc
	}
	if o.PageSize == 0 {
		o.PageSize = MaxPageSize
	}
	first := max(o.Page, 1)
	if o.Page < 0 {
		first = o.Page // let List report it
	}
	fetch := func(ctx context.Context, page int) (pageResult[*LinkedClient], error) {
		po := o
		po.Page = page
		list, err := s.List(ctx, &po, callOpts...)
		if err != nil {
			return pageResult[*LinkedClient]{}, err
		}
		items := list.Clients[:0:0]
		for _, c := range list.Clients {
			if c != nil {
				items = append(items, c)
			}
		}
		return pageResult[*LinkedClient]{items: items, pageSize: list.Page.PageSize, totalPages: list.Page.TotalPages, currentPage: list.Page.CurrentPage}, nil
	}
	return walkPages(ctx, first, o.PageSize, fetch, clientKey)
}

// clientKey identifies a listed client: its externalTenantId, or its creditor id when the API
// left the former out.
func clientKey(c *LinkedClient) string {
	if c.ExternalTenantID != "" {
		return "t:" + c.ExternalTenantID
	}
	if c.Client.ID != "" {
		return "c:" + c.Client.ID
	}
	return ""
}
