"""Taking payment for invoices: providers behind one interface, and the collection (dunning) job."""
