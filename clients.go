package debitura

// ClientsService links, reads, lists and manages the partner's clients (the API's "clients"
// resource, LinkedClient in this SDK).
type ClientsService service
