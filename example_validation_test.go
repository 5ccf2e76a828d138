package debitura_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/debitura-go/debitura"
)

// A request with several problems is refused before sending with all of them listed, each
// naming its field. ValidationProblems reads the same list from a 400 of the API.
func ExampleValidationProblems() {
	c, err := debitura.New("partner-api-key") // nothing is sent: validation comes first
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Clients.Create(context.Background(), &debitura.ClientCreateRequest{
		ExternalTenantID: "tenant-7",
		Client:           debitura.ClientDetails{Name: "Acme", SupportEmail: "billing at acme"},
		Users:            []debitura.ClientUser{{Name: "Sam Reed"}},
	})
	fmt.Println(errors.Is(err, debitura.ErrValidation))
	for _, p := range debitura.ValidationProblems(err) {
		fmt.Printf("%s: %s\n", p.Field, p.Message)
	}
	fmt.Println(err)
	// Output:
	// true
	// client.country: is required
	// client.supportEmail: "billing at acme" is not an e-mail address
	// users[0].email: is required
	// debitura: Clients.Create: invalid request: client.country: is required (and 2 more problems: client.supportEmail, users[0].email)
}
