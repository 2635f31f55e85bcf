//! Stripe's search query language (docs.stripe.com/search), parsed into a [`Query`]: clauses
//! `field:value` (exact), `field~value` (substring), `field>value` and the other numeric
//! comparators, `metadata['key']:'value'`, a leading `-` to negate, joined by spaces, `AND`
//! or `OR` (case-insensitive, never both in one query, no parentheses). Values are quoted
//! with `'` or `"` (a backslash escapes the quote) or bare. Each searchable resource checks
//! which fields and operators it has and evaluates the clauses itself.

/// Most clauses one query may have (Stripe documents a limit of 10).
pub(crate) const MAX_CLAUSES: usize = 10;

/// What a clause compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// A top-level field such as `email` or `created`.
    Named(String),
    /// `metadata['key']`.
    Metadata(String),
}

/// How a clause compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    /// `:`
    Exact,
    /// `~`
    Substring,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `=`
    Equal,
}

impl Operator {
    /// The operator as written in a query.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Operator::Exact => ":",
            Operator::Substring => "~",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Equal => "=",
        }
    }
}

/// One `field operator value` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub(crate) negated: bool,
    pub(crate) field: Field,
    pub(crate) operator: Operator,
    pub(crate) value: String,
}

/// How the clauses combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Joiner {
    And,
    Or,
}

/// A parsed query: at least one clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) clauses: Vec<Clause>,
    pub(crate) joiner: Joiner,
}

impl Query {
    /// Whether an object passes, given whether it passes each clause before negation.
    pub(crate) fn matches(&self, mut passes: impl FnMut(&Clause) -> bool) -> bool {
        let mut results = self
            .clauses
            .iter()
            .map(|clause| passes(clause) != clause.negated);
        match self.joiner {
            Joiner::And => results.all(|result| result),
            Joiner::Or => results.any(|result| result),
        }
    }
}

/// Reads a query, or says in a sentence why it cannot be read.
pub(crate) fn parse(text: &str) -> Result<Query, String> {
    let mut reader = Reader {
        chars: text.chars().collect(),
        at: 0,
    };
    let mut clauses = Vec::new();
    let mut joiner: Option<Joiner> = None;
    reader.skip_spaces();
    if reader.done() {
        return Err("The query is empty.".to_owned());
    }
    loop {
        clauses.push(reader.clause()?);
        if clauses.len() > MAX_CLAUSES {
            return Err(format!("A query may have at most {MAX_CLAUSES} clauses."));
        }
        let spaced = reader.skip_spaces();
        if reader.done() {
            break;
        }
        let next = match reader.keyword() {
            Some(keyword) => {
                if !reader.skip_spaces() {
                    return Err(reader.unexpected("a space after the keyword"));
                }
                keyword
            }
            // Clauses separated only by spaces are combined with AND.
            None if spaced => Joiner::And,
            None => return Err(reader.unexpected("a space, AND or OR between clauses")),
        };
        match joiner {
            Some(previous) if previous != next => {
                return Err("AND and OR cannot be combined in one query.".to_owned())
            }
            _ => joiner = Some(next),
        }
    }
    Ok(Query {
        clauses,
        joiner: joiner.unwrap_or(Joiner::And),
    })
}

struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn done(&self) -> bool {
        self.at >= self.chars.len()
    }

    /// The characters read since `start`.
    fn taken(&self, start: usize) -> String {
        self.chars
            .get(start..self.at)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Skips whitespace and says whether there was any.
    fn skip_spaces(&mut self) -> bool {
        let start = self.at;
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        self.at > start
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(found) => format!(
                "Expected {wanted} at position {}, found `{found}`.",
                self.at
            ),
            None => format!("Expected {wanted} at the end of the query."),
        }
    }

    /// Reads `AND` or `OR` (any case) when the next word is one.
    fn keyword(&mut self) -> Option<Joiner> {
        for (word, joiner) in [("and", Joiner::And), ("or", Joiner::Or)] {
            let end = self.at + word.len();
            let Some(found) = self.chars.get(self.at..end) else {
                continue;
            };
            let matches = found
                .iter()
                .zip(word.chars())
                .all(|(found, wanted)| found.eq_ignore_ascii_case(&wanted));
            let ends_word = self.chars.get(end).is_none_or(|next| next.is_whitespace());
            if matches && ends_word {
                self.at = end;
                return Some(joiner);
            }
        }
        None
    }

    fn clause(&mut self) -> Result<Clause, String> {
        let negated = self.peek() == Some('-');
        if negated {
            self.at += 1;
        }
        let field = self.field()?;
        let operator = self.operator()?;
        let value = self.value()?;
        Ok(Clause {
            negated,
            field,
            operator,
            value,
        })
    }

    fn field(&mut self) -> Result<Field, String> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.unexpected("a field name"));
        }
        let name: String = self.taken(start);
        if name != "metadata" || self.peek() != Some('[') {
            return Ok(Field::Named(name));
        }
        self.at += 1;
        let key = match self.peek() {
            Some('\'' | '"') => self.quoted()?,
            _ => return Err(self.unexpected("a quoted metadata key")),
        };
        if self.peek() != Some(']') {
            return Err(self.unexpected("`]` after the metadata key"));
        }
        self.at += 1;
        Ok(Field::Metadata(key))
    }

    fn operator(&mut self) -> Result<Operator, String> {
        let operator = match (self.peek(), self.chars.get(self.at + 1).copied()) {
            (Some('>'), Some('=')) => Operator::GreaterOrEqual,
            (Some('<'), Some('=')) => Operator::LessOrEqual,
            (Some(':'), _) => Operator::Exact,
            (Some('~'), _) => Operator::Substring,
            (Some('>'), _) => Operator::Greater,
            (Some('<'), _) => Operator::Less,
            (Some('='), _) => Operator::Equal,
            _ => return Err(self.unexpected("an operator (`:`, `~`, `>`, `>=`, `<`, `<=` or `=`)")),
        };
        self.at += operator.symbol().len();
        Ok(operator)
    }

    fn value(&mut self) -> Result<String, String> {
        if matches!(self.peek(), Some('\'' | '"')) {
            return self.quoted();
        }
        let start = self.at;
        while self.peek().is_some_and(|c| !c.is_whitespace()) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.unexpected("a value"));
        }
        Ok(self.taken(start))
    }

    /// Reads a string in `'` or `"`; a backslash takes the next character literally.
    fn quoted(&mut self) -> Result<String, String> {
        let Some(quote) = self.peek() else {
            return Err(self.unexpected("a quoted string"));
        };
        self.at += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(format!("The string opened with {quote} is not closed.")),
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(escaped) => value.push(escaped),
                        None => {
                            return Err(format!("The string opened with {quote} is not closed."))
                        }
                    }
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(value);
                }
                Some(c) => value.push(c),
            }
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(negated: bool, field: Field, operator: Operator, value: &str) -> Clause {
        Clause {
            negated,
            field,
            operator,
            value: value.to_owned(),
        }
    }

    fn named(name: &str) -> Field {
        Field::Named(name.to_owned())
    }

    #[test]
    fn reads_the_documented_forms() {
        let query = parse("email:'a@b.co' AND metadata['plan']:\"pro\"").expect("parses");
        assert_eq!(query.joiner, Joiner::And);
        assert_eq!(
            query.clauses,
            [
                clause(false, named("email"), Operator::Exact, "a@b.co"),
                clause(
                    false,
                    Field::Metadata("plan".to_owned()),
                    Operator::Exact,
                    "pro"
                ),
            ]
        );
        let query = parse("-name~\"jen\" or created>=1700000000").expect("parses");
        assert_eq!(query.joiner, Joiner::Or);
        assert_eq!(
            query.clauses,
            [
                clause(true, named("name"), Operator::Substring, "jen"),
                clause(
                    false,
                    named("created"),
                    Operator::GreaterOrEqual,
                    "1700000000"
                ),
            ]
        );
        // Spaces alone join with AND; escapes keep quotes.
        let query = parse("  name:'O\\'Brien'   phone:123 ").expect("parses");
        assert_eq!(query.joiner, Joiner::And);
        assert_eq!(query.clauses[0].value, "O'Brien");
        assert_eq!(query.clauses[1].value, "123");
        // A value may contain the words and/or.
        let query = parse("name:'Salt and Pepper'").expect("parses");
        assert_eq!(query.clauses.len(), 1);
    }

    #[test]
    fn refuses_malformed_queries() {
        for bad in [
            "",
            "   ",
            "email",
            "email:",
            "email:'open",
            ":'x'",
            "email:'a' AND",
            "email:'a' AND name:'b' OR phone:'c'",
            "metadata[plan]:'x'",
            "metadata['plan':'x'",
            "email:'a'name:'b'",
            "email!'a'",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let eleven = ["name:'x'"; MAX_CLAUSES + 1].join(" AND ");
        assert!(parse(&eleven).is_err());
        let ten = ["name:'x'"; MAX_CLAUSES].join(" AND ");
        assert!(parse(&ten).is_ok());
    }

    #[test]
    fn combines_clauses_and_negation() {
        let query = parse("name:'a' AND -email:'b'").expect("parses");
        let values = |name: &str, email: &str| {
            let (name, email) = (name.to_owned(), email.to_owned());
            query.matches(|clause| match &clause.field {
                Field::Named(field) if field == "name" => clause.value == name,
                Field::Named(_) => clause.value == email,
                Field::Metadata(_) => false,
            })
        };
        assert!(values("a", "c"));
        assert!(!values("a", "b"));
        assert!(!values("z", "c"));
        let either = parse("name:'a' OR name:'b'").expect("parses");
        assert!(either.matches(|clause| clause.value == "b"));
        assert!(!either.matches(|_| false));
    }
}
