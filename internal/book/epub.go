package book

import "errors"

func loadEPUB(string, Options) (*Book, error) {
	return nil, errors.New("EPUB support is not built yet")
}
