// Package store defines Lectern's persistent records and the storage contract
// that both engines (store/postgres and store/sqlite) implement.
//
// Services declare the narrow subset of Store they need where they use it;
// Store itself exists so that one conformance suite (store/storetest) can hold
// every engine to the same behaviour.
package store

import (
	"context"
	"time"

	"github.com/lectern/lectern/internal/fault"
)

// Errors every engine returns, so callers can branch with errors.Is.
var (
	// ErrNotFound means no row matched (including rows owned by another user).
	ErrNotFound = fault.Sentinel(fault.NotFound, "store: not found")
	// ErrConflict means a uniqueness constraint was violated (e.g. duplicate email).
	ErrConflict = fault.Sentinel(fault.Conflict, "store: conflict")
	// ErrUnavailable means the database could not be reached or could not
	// take the operation now: the connection was refused, dropped or timed
	// out, the server is shutting down or starting up, or (SQLite) the
	// database stayed locked. Whether the operation took effect is unknown
	// when the connection dropped mid-way; the caller may retry later.
	ErrUnavailable = fault.Sentinel(fault.Unavailable, "store: database unavailable")
	// ErrDeleted means the user was deleted: SyncUser refuses to bring
	// them back from an identity asserted by an older token.
	ErrDeleted = fault.Sentinel(fault.Unauthenticated, "store: user deleted")
)

// Footprint is what a user has stored, for quotas.
type Footprint struct {
	Conversations, Messages, Bytes int64
}

// MessageBytes is what a message counts for in Footprint.Bytes: its text
// and its sources.
func MessageBytes(m Message) int64 { return int64(len(m.Content) + len(m.Sources)) }

// User is an account holder. Emails are stored lower-cased.
type User struct {
	ID            string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string // nil when the user has no image
	Role          string  // "user" unless an operator changed it; never set by clients
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Account links a user to a way of signing in. Lectern has one provider,
// "credential" (email and password), as Better Auth names it.
type Account struct {
	ID           string
	AccountID    string // the user id for credential accounts, as in Better Auth
	ProviderID   string
	UserID       string
	PasswordHash string // argon2id PHC string, or Better Auth's scrypt "salt:key"
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a signed-in browser or client. Only a hash of its bearer token is
// stored, so a database leak does not leak usable sessions.
type Session struct {
	ID           string
	TokenHash    []byte // SHA-256 of the opaque token
	UserID       string
	ExpiresAt    time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	IPAddress    string
	UserAgent    string
	DontRemember bool // rememberMe=false at sign-in: short-lived, never refreshed
}

// Verification is a single-use secret, such as a password-reset or
// email-verification token. Identifier holds a hash of the token, never the
// token itself; Value holds what the token grants (e.g. a user id).
type Verification struct {
	ID         string
	Identifier string
	Value      string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

// SigningKey is a JWT signing key pair. The private half is stored encrypted.
type SigningKey struct {
	ID         string // the JWK "kid"
	Alg        string // RS256, ES256 or EdDSA
	PublicJWK  []byte // JSON of the public JWK (without kid/alg)
	PrivateKey []byte // sealed private key; see package keys
	CreatedAt  time.Time
	RetiredAt  *time.Time // set when a newer key replaced it; nil while current
}

// Conversation is one chat thread of one reader. MessageCount is also the
// Seq of its newest message.
type Conversation struct {
	ID           string
	UserID       string
	Title        string
	CreatedAt    time.Time
	UpdatedAt    time.Time // last activity: creation, a new message, or a rename
	MessageCount int64
}

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a conversation. Seq orders the messages of a
// conversation (1, 2, 3, …) in the order they were stored.
type Message struct {
	ID             string
	ConversationID string
	UserID         string
	Seq            int64
	Role           string // RoleUser or RoleAssistant
	Content        string
	Sources        []byte // JSON array of cited sections; nil for none
	AgentType      string // the agent that produced an assistant message ("rag", …); "" for user messages
	ParentID       string // for an assistant message, the user message it answers
	// Page is, for a question, the page of the book the reader asked it
	// from ("" when none).
	Page string
	// NotCovered is set on an answer that says the book does not cover
	// the question.
	NotCovered bool
	CreatedAt  time.Time
	// Rating is the owner's feedback on an assistant message ("up",
	// "down"), "" when none; filled by ListMessages.
	Rating string
}

// Feedback is a reader's rating of one assistant message of theirs.
type Feedback struct {
	MessageID string
	UserID    string
	Rating    string // "up" or "down"
	Comment   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Usage is what one reader used on one day (UTC): questions asked and
// model tokens spent.
type Usage struct {
	Requests int64
	Tokens   int64
}

// ConversationCursor is a position in a user's conversation list, which is
// ordered by UpdatedAt then ID, both descending.
type ConversationCursor struct {
	UpdatedAt time.Time
	ID        string
}

// Book is a book's metadata. Lectern serves one book today; every book
// table carries the book id so that several can live side by side.
type Book struct {
	ID     string
	Title  string
	Format string // "docusaurus", "markdown" or "epub"
	Source string // the path it was ingested from
	Hash   string // changes whenever anything a reader could see changes
	TOC    []byte // the table of contents, JSON
	// Language is the language the book says it is in (a BCP 47 tag), or
	// "" when it says none.
	Language  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Assets are the images the pages show. ApplyBook makes the stored
	// set exactly these (keeping those already stored); Book does not read
	// them back: BookAsset does, one at a time.
	Assets []BookAsset
}

// BookAsset is a file a book's pages show (an image).
type BookAsset struct {
	Name string // the hash of Data and an extension: "3f2a….png"
	Type string // its MIME type
	Data []byte
}

// BookDocument is one document (page) of a book.
type BookDocument struct {
	BookID        string
	Path          string // doc_path: relative to the book root, forward slashes
	Ord           int    // reading order, from 0
	Slug          string
	Title         string
	SidebarLabel  string
	Description   string
	Chapter       string
	ChapterNumber int    // 0 when the document is in no chapter
	PageNumber    *int   // nil when the source has none
	Meta          []byte // front matter, JSON object
	HTML          string
	Words         int
	Hash          string // of the source; a changed hash means new sections and chunks
}

// BookSection is the part of a document under one heading.
type BookSection struct {
	DocPath string
	Ord     int
	Anchor  string // the heading's id in the page; "" for the lead section
	Heading string
	Path    []string // heading path, the document title first
	Level   int
	Text    string
}

// BookChunk is the unit retrieval indexes: part of one section.
type BookChunk struct {
	ID         string // deterministic: the same text in the same place keeps its id
	DocPath    string
	SectionOrd int
	Ord        int
	Heading    string // "Title > Heading > Subheading"
	Text       string
	Words      int
	// Embedding is the chunk's dense vector from EmbeddingModel; nil when
	// none has been computed.
	Embedding      []float32
	EmbeddingModel string
}

// BookContent is the new sections and chunks of one changed document.
type BookContent struct {
	DocPath  string
	Sections []BookSection
	Chunks   []BookChunk
}

// Store is everything Lectern persists. Implementations must be
// safe for concurrent use.
type Store interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases connections.
	Close() error

	// CreateUser inserts a user and its account in one transaction. A duplicate
	// email yields ErrConflict and writes nothing.
	CreateUser(ctx context.Context, u User, a Account) error
	UserByID(ctx context.Context, id string) (User, error)
	// UserByEmail looks up by exact (already lower-cased) email.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser writes Name, Image, EmailVerified, Role and UpdatedAt of u.ID.
	UpdateUser(ctx context.Context, u User) error
	// UsersByRole returns the users with this role, by email.
	UsersByRole(ctx context.Context, role string) ([]User, error)
	// DeleteUser removes the user and, by cascade, its accounts, sessions,
	// conversations and messages.
	DeleteUser(ctx context.Context, id string) error

	// CredentialAccount returns the user's "credential" account.
	CredentialAccount(ctx context.Context, userID string) (Account, error)
	// SetPassword replaces the credential account's password hash.
	SetPassword(ctx context.Context, userID, hash string, now time.Time) error

	CreateSession(ctx context.Context, s Session) error
	// SessionByTokenHash returns the session whatever its expiry; callers check it.
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, error)
	// ExtendSession moves a session's expiry (sliding refresh).
	ExtendSession(ctx context.Context, id string, expiresAt, now time.Time) error
	// ListSessions returns the user's unexpired sessions, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// DeleteSession removes one session of userID; ErrNotFound if it is not theirs.
	DeleteSession(ctx context.Context, userID, id string) error
	// DeleteSessions removes all of userID's sessions except exceptID (may be "").
	DeleteSessions(ctx context.Context, userID, exceptID string) error
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	CreateVerification(ctx context.Context, v Verification) error
	// ConsumeVerification atomically deletes and returns the verification with
	// this identifier if it has not expired; otherwise ErrNotFound. A token can
	// therefore be used once, even under concurrent requests.
	ConsumeVerification(ctx context.Context, identifier string, now time.Time) (Verification, error)
	// DeleteExpiredVerifications removes verifications that expired by now.
	DeleteExpiredVerifications(ctx context.Context, now time.Time) (int64, error)
	// DeleteVerifications removes every verification whose Value is value
	// and whose Identifier starts with prefix (e.g. older reset tokens of a user).
	DeleteVerifications(ctx context.Context, prefix, value string) error

	InsertSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every stored key, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKeys marks every key except keepID as retired at the given
	// time (keys already retired keep their earlier time).
	RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error)

	// SyncUser makes the local user row match an identity asserted by a
	// verified token (ID, Name, Email, EmailVerified, Image; CreatedAt and
	// UpdatedAt for a new row). It inserts a missing user and updates a
	// changed one, and reports whether it wrote anything. The identity
	// provider is the authority on emails: if another local row holds the
	// email, that row's email is replaced by a placeholder so the unique
	// constraint holds. Role and credentials are never touched. A user
	// deleted here (DeleteUser) is never written again: ErrDeleted.
	SyncUser(ctx context.Context, u User) (changed bool, err error)

	// UserFootprint returns what userID has stored: conversations, their
	// messages (both roles) and the bytes those messages hold.
	UserFootprint(ctx context.Context, userID string) (Footprint, error)

	// StartConversation inserts c with first as its message 1, atomically.
	// It returns first as stored (Seq set) and sets c.MessageCount to 1.
	StartConversation(ctx context.Context, c Conversation, first Message) (Message, error)
	// Conversation returns userID's conversation id; ErrNotFound if it does
	// not exist or belongs to someone else.
	Conversation(ctx context.Context, userID, id string) (Conversation, error)
	// ListConversations returns up to limit of userID's conversations, most
	// recent activity first, starting after the cursor (nil: from the top).
	ListConversations(ctx context.Context, userID string, limit int, after *ConversationCursor) ([]Conversation, error)
	// RenameConversation sets the title and UpdatedAt of userID's
	// conversation and returns it; ErrNotFound if it is not theirs.
	RenameConversation(ctx context.Context, userID, id, title string, now time.Time) (Conversation, error)
	// DeleteConversation removes userID's conversation and all its messages;
	// ErrNotFound if it is not theirs.
	DeleteConversation(ctx context.Context, userID, id string) error
	// AppendMessage stores m as the next message of its conversation, which
	// must belong to m.UserID (else ErrNotFound), and moves the
	// conversation's UpdatedAt to m.CreatedAt. Concurrent appends to one
	// conversation each get their own Seq; none is lost. It returns m as
	// stored.
	AppendMessage(ctx context.Context, m Message) (Message, error)
	// ListMessages returns up to limit messages of userID's conversation
	// with Seq > afterSeq, oldest first; ErrNotFound if the conversation is
	// not theirs.
	ListMessages(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]Message, error)

	// SetFeedback records f (inserting it, or replacing the rating, comment
	// and UpdatedAt of an earlier one; CreatedAt is kept). The message must
	// be an assistant message of f.UserID's: ErrNotFound otherwise,
	// including for another user's message. Deleting the message, its
	// conversation or the user deletes the feedback.
	SetFeedback(ctx context.Context, f Feedback) error

	// AddUsage adds requests and tokens to userID's counters for day (a
	// UTC date, "2006-01-02") and returns the totals after adding,
	// atomically under concurrent calls. Adding zeros reads the totals.
	AddUsage(ctx context.Context, userID, day string, requests, tokens int64) (Usage, error)

	// Volume returns the questions asked and the answers given in [from,
	// to), day by day (UTC), across all readers: for the book's owners.
	Volume(ctx context.Context, from, to time.Time) (Volume, error)
	// NotCoveredQuestions returns the questions whose answer, given in
	// [from, to), said the book does not cover them: the most recent
	// first, at most limit.
	NotCoveredQuestions(ctx context.Context, from, to time.Time, limit int) ([]AskedQuestion, error)
	// RatedDown returns the answers rated down in [from, to), with their
	// questions: the most recently rated first, at most limit.
	RatedDown(ctx context.Context, from, to time.Time, limit int) ([]RatedAnswer, error)
	// PagesAskedFrom returns the pages at least minReaders distinct
	// readers asked from in [from, to), at most limit, most asked first
	// (questions asked from no page are left out).
	PagesAskedFrom(ctx context.Context, from, to time.Time, minReaders, limit int) ([]PageCount, error)
	// SectionsCited returns the sections of the book cited the most by
	// answers given in [from, to) to at least minReaders distinct readers,
	// most cited first, at most limit.
	SectionsCited(ctx context.Context, from, to time.Time, minReaders, limit int) ([]SectionCount, error)

	// ApplyBook writes one ingestion of a book in a single transaction: the
	// book row (inserted or updated; CreatedAt kept on update), every
	// document row of docs (inserted or updated: order, slug, titles, HTML,
	// hash…), the removal of stored documents not in docs (with their
	// sections and chunks), and for each entry of content the replacement
	// of that document's sections and chunks. A replaced chunk whose id is
	// unchanged keeps its stored embedding. Documents not named in content
	// keep their sections and chunks. A document in content must be in docs.
	ApplyBook(ctx context.Context, b Book, docs []BookDocument, content []BookContent) error
	// Book returns the book with this id, or ErrNotFound.
	Book(ctx context.Context, id string) (Book, error)
	// BookAsset returns the book's asset with this name, or ErrNotFound.
	BookAsset(ctx context.Context, bookID, name string) (BookAsset, error)
	// BookDocuments returns the book's documents in reading order.
	BookDocuments(ctx context.Context, bookID string) ([]BookDocument, error)
	// BookSections returns the book's sections, by document order then
	// section order.
	BookSections(ctx context.Context, bookID string) ([]BookSection, error)
	// BookChunks returns the book's chunks with their embeddings, by
	// document order, section order, then chunk order.
	BookChunks(ctx context.Context, bookID string) ([]BookChunk, error)
	// SetChunkEmbeddings stores vectors (chunk id → embedding) computed by
	// model for chunks of the book; ids that no longer exist are ignored.
	SetChunkEmbeddings(ctx context.Context, bookID, model string, vectors map[string][]float32) error
}
