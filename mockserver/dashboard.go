package mockserver

import "net/http"

func (b *Backend) dashboardRoutes(m *http.ServeMux) {}
