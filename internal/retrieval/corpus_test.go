package retrieval

// corpus is a small hand-written book: a dozen sections on unrelated
// topics, so that each question has one right answer. The sourdough
// section has two chunks, and three sections share the "time-zones" page.
func corpus() []Doc {
	return []Doc{
		{
			ID: "tz-dst", Group: "time-zones.md#daylight-saving-time", Page: "time-zones",
			Title: "Time zones", Heading: "Time zones > Daylight saving time",
			Text: `In spring the clocks move forward one hour and in autumn they go back.
On the night of the change some local times are skipped and others happen twice,
so a wall-clock time alone does not identify an instant. Store timestamps in UTC
and convert to local time only for display.`,
		},
		{
			ID: "tz-offsets", Group: "time-zones.md#utc-offsets", Page: "time-zones",
			Title: "Time zones", Heading: "Time zones > UTC offsets",
			Text: `An offset such as +02:00 says how far a local time is ahead of UTC.
An offset is not a time zone: the IANA database names zones like Europe/Paris,
and a zone's offset changes over the years as governments change their rules.`,
		},
		{
			ID: "tz-leap", Group: "time-zones.md#leap-seconds", Page: "time-zones",
			Title: "Time zones", Heading: "Time zones > Leap seconds",
			Text: `Leap seconds were introduced in 1972 to keep UTC within 0.9 seconds
of the rotation of the Earth. Most computer clocks smear the extra second over
several hours instead of showing 23:59:60.`,
		},
		{
			ID: "go-parse", Group: "go-time.md#parsing", Page: "go-time",
			Title: "Working with time in Go", Heading: "Parsing > time.Parse layouts",
			Text: `time.Parse reads a date string using a layout written with the
reference time Mon Jan 2 15:04:05 MST 2006. Each element of the reference
stands for that field of the input. A string that does not match the layout
returns a *ParseError describing the mismatch.`,
		},
		{
			ID: "go-format", Group: "go-time.md#formatting", Page: "go-time",
			Title: "Working with time in Go", Heading: "Formatting",
			Text: `The Format method prints a Time with the same kind of layout.
Prefer the predefined constants such as time.RFC3339 for machine-readable output
and write your own layout only for text meant for people.`,
		},
		{
			ID: "sourdough-starter", Group: "baking.md#sourdough", Page: "baking",
			Title: "Baking bread", Heading: "Sourdough",
			Text: `A sourdough starter is a culture of wild yeast and bacteria. Feed it
equal weights of flour and water every day until it doubles within a few hours
of feeding; then it is ready to raise a loaf.`,
		},
		{
			ID: "sourdough-bake", Group: "baking.md#sourdough", Page: "baking",
			Title: "Baking bread", Heading: "Sourdough",
			Text: `Let the shaped dough proof overnight in the fridge. Bake the loaf in
a preheated Dutch oven, covered for twenty minutes to trap steam, then
uncovered until the crust is deep brown.`,
		},
		{
			ID: "tomatoes", Group: "garden.md#tomatoes", Page: "garden",
			Title: "The kitchen garden", Heading: "Growing tomatoes",
			Text: `Plant tomato seedlings outside after the last frost, deep enough to
bury part of the stem. Tie the plants to stakes as they grow and water them at
the base, never on the leaves, to keep blight away.`,
		},
		{
			ID: "marathon", Group: "endurance.md#marathon", Page: "endurance",
			Title: "Endurance training", Heading: "Marathon plans",
			Text: `A first marathon takes about sixteen weeks of preparation. Run three
or four times a week, keep most runs easy enough to hold a conversation, and
lengthen the weekly long run gradually to about thirty kilometres.`,
		},
		{
			ID: "chess", Group: "chess.md#sicilian", Page: "chess",
			Title: "Chess openings", Heading: "The Sicilian Defence",
			Text: `After 1.e4 c5 Black fights for the centre from the side instead of
copying White's pawn move. The resulting positions are unbalanced and give
both players chances to win.`,
		},
		{
			ID: "photosynthesis", Group: "biology.md#photosynthesis", Page: "biology",
			Title: "Plant biology", Heading: "Photosynthesis",
			Text: `Chlorophyll in the leaves absorbs sunlight. Plants use that energy to
turn carbon dioxide and water into glucose, releasing oxygen as a by-product.`,
		},
		{
			ID: "revolution", Group: "history.md#french-revolution", Page: "history",
			Title: "Modern history", Heading: "The French Revolution",
			Text: `The revolution began in 1789 when the Estates-General met at
Versailles. On 14 July a crowd stormed the Bastille, and within three years
France had abolished its monarchy.`,
		},
		{
			ID: "git-rebase", Group: "git.md#rebasing", Page: "git",
			Title: "Version control with Git", Heading: "Rebasing",
			Text: `git rebase replays your commits on top of another branch, rewriting
their history. Never rebase commits that others have pulled; merge them
instead.`,
		},
		{
			ID: "coffee", Group: "coffee.md#pour-over", Page: "coffee",
			Title: "Brewing coffee", Heading: "Pour-over",
			Text: `Heat the water to 92–96 °C and grind the beans medium-fine. Pour a
little water first and let the grounds bloom for thirty seconds before pouring
the rest in slow circles.`,
		},
		{
			ID: "bicycle", Group: "bikes.md#flat-tyre", Page: "bikes",
			Title: "Bicycle maintenance", Heading: "Fixing a flat tyre",
			Text: `Take the wheel off, lever one side of the tyre from the rim and pull
out the inner tube. Pump it up to find the puncture, patch it, and check the
tyre for the thorn that caused it.`,
		},
		{
			ID: "sleep", Group: "health.md#sleep", Page: "health",
			Title: "Health", Heading: "Sleep hygiene",
			Text: `Go to bed and get up at the same times every day, avoid caffeine
after noon, and keep the bedroom dark, quiet and cool.`,
		},
	}
}

// corpusIndex returns an index of corpus built with opt.
func corpusIndex(opt Options) *Index {
	ix := New(opt)
	ix.Add(corpus()...)
	return ix
}
