// Kconfig expressions: tokens, parser, printer and evaluation against a final .config.
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/quote.hpp"
#include "kconfig/lexer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fmt/core.h>

namespace distkernel::kconfig {

namespace {

bool is_word_char(char c)
{
	return !(c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '!' || c == '=' || c == '<' || c == '>' ||
		 c == '(' || c == ')' || c == '&' || c == '|' || c == '#' || c == '\r' || c == '\n');
}

} // namespace

std::vector<Token> tokenize(std::string_view s)
{
	std::vector<Token> out;
	std::size_t i = 0;
	while (i < s.size()) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (c == '"' || c == '\'') {
			std::string text;
			std::size_t j = i + 1;
			for (; j < s.size() && s[j] != c; j++) {
				if (s[j] == '\\' && j + 1 < s.size())
					j++;
				text += s[j];
			}
			if (j >= s.size())
				throw Error(fmt::format("string without its closing quote: {}", quote_input(s.substr(i), 120)));
			out.push_back({Token::Kind::string, std::move(text)});
			i = j + 1;
			continue;
		}
		if (c == '$' && i + 1 < s.size() && s[i + 1] == '(') {
			int depth = 0;
			std::size_t j = i + 1;
			for (; j < s.size(); j++) {
				if (s[j] == '(')
					depth++;
				else if (s[j] == ')' && --depth == 0)
					break;
			}
			if (j >= s.size())
				throw Error(fmt::format("macro without its closing parenthesis: {}", quote_input(s.substr(i), 120)));
			out.push_back({Token::Kind::macro, std::string(s.substr(i, j + 1 - i))});
			i = j + 1;
			continue;
		}
		static constexpr std::string_view two[] = {"&&", "||", "!=", "<=", ">="};
		bool matched = false;
		for (auto op : two)
			if (s.substr(i, 2) == op) {
				out.push_back({Token::Kind::op, std::string(op)});
				i += 2;
				matched = true;
				break;
			}
		if (matched)
			continue;
		if (std::strchr("!=<>()", c)) {
			out.push_back({Token::Kind::op, std::string(1, c)});
			i++;
			continue;
		}
		std::size_t j = i;
		while (j < s.size() && is_word_char(s[j]))
			j++;
		if (j == i)
			throw Error(fmt::format("unexpected character {} in: {}", quote_input(std::string_view(&c, 1)), quote_input(s, 120)));
		out.push_back({Token::Kind::word, std::string(s.substr(i, j - i))});
		i = j;
	}
	return out;
}

namespace {

// Kconfig's numbers: decimal, or hexadecimal with 0x (hex symbols also without).
bool to_number(const std::string &s, bool hex, long long &out)
{
	if (s.empty())
		return false;
	const char *b = s.c_str();
	int base = 10;
	if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		b += 2;
		base = 16;
	} else if (hex) {
		base = 16;
	}
	char *end = nullptr;
	out = std::strtoll(b, &end, base);
	return end && *end == 0 && end != b;
}

ExprPtr make(Expr::Op op, ExprPtr l = nullptr, ExprPtr r = nullptr, std::string text = {})
{
	auto e = std::make_shared<Expr>();
	e->op = op;
	e->left = std::move(l);
	e->right = std::move(r);
	e->text = std::move(text);
	e->depth = 1 + std::max(e->left ? e->left->depth : 0u, e->right ? e->right->depth : 0u);
	return e;
}

class ExprParser {
public:
	ExprParser(const Token *b, const Token *e) : p_(b), end_(e) {}
	ExprPtr parse()
	{
		if (p_ == end_)
			throw Error("empty expression");
		ExprPtr e = parse_or();
		if (p_ != end_)
			throw Error(fmt::format("unexpected {} in the expression", quote_input(p_->text, 80)));
		return e;
	}

private:
	bool at(std::string_view op) const { return p_ != end_ && p_->kind == Token::Kind::op && p_->text == op; }
	ExprPtr parse_or()
	{
		ExprPtr l = parse_and();
		while (at("||")) {
			p_++;
			l = check(make(Expr::Op::op_or, l, parse_and()));
		}
		return l;
	}
	ExprPtr parse_and()
	{
		ExprPtr l = parse_unary();
		while (at("&&")) {
			p_++;
			l = check(make(Expr::Op::op_and, l, parse_unary()));
		}
		return l;
	}
	ExprPtr parse_unary()
	{
		Nesting level(nesting_);
		if (at("!")) {
			p_++;
			return check(make(Expr::Op::op_not, parse_unary()));
		}
		if (at("(")) {
			p_++;
			ExprPtr e = parse_or();
			if (!at(")"))
				throw Error("missing ')' in the expression");
			p_++;
			return e;
		}
		ExprPtr l = parse_atom();
		static const std::pair<std::string_view, Expr::Op> cmp[] = {
			{"=", Expr::Op::equal},   {"!=", Expr::Op::unequal},	  {"<", Expr::Op::less},
			{"<=", Expr::Op::less_equal}, {">", Expr::Op::greater}, {">=", Expr::Op::greater_equal}};
		for (auto [t, op] : cmp)
			if (at(t)) {
				p_++;
				return make(op, l, parse_atom());
			}
		return l;
	}
	ExprPtr parse_atom()
	{
		if (p_ == end_)
			throw Error("the expression ends too early");
		const Token &t = *p_++;
		switch (t.kind) {
		case Token::Kind::word: {
			// 64BIT is a symbol, 64 and 0x40 are numbers
			long long n;
			bool number = to_number(t.text, false, n);
			return make(number ? Expr::Op::constant : Expr::Op::symbol, nullptr, nullptr, t.text);
		}
		case Token::Kind::string:
			return make(Expr::Op::constant, nullptr, nullptr, t.text);
		case Token::Kind::macro:
			return make(Expr::Op::macro, nullptr, nullptr, t.text);
		default:
			throw Error(fmt::format("unexpected {} in the expression", quote_input(t.text, 80)));
		}
	}
	// Every node and every level of ( and ! counts: a long && chain is as deep as it is long.
	ExprPtr check(ExprPtr e) const
	{
		if (e->depth > max_expr_depth)
			throw Error(fmt::format("expression nested deeper than {} levels", max_expr_depth));
		return e;
	}
	struct Nesting {
		explicit Nesting(unsigned &n) : n_(n)
		{
			if (++n_ > max_expr_depth)
				throw Error(fmt::format("expression nested deeper than {} levels", max_expr_depth));
		}
		~Nesting() { --n_; }
		unsigned &n_;
	};
	const Token *p_, *end_;
	unsigned nesting_ = 0;
};

int precedence(Expr::Op op)
{
	switch (op) {
	case Expr::Op::op_or:
		return 1;
	case Expr::Op::op_and:
		return 2;
	case Expr::Op::op_not:
		return 4;
	case Expr::Op::symbol:
	case Expr::Op::constant:
	case Expr::Op::macro:
		return 5;
	default:
		return 3;
	}
}

std::string_view op_text(Expr::Op op)
{
	switch (op) {
	case Expr::Op::op_or:
		return "||";
	case Expr::Op::op_and:
		return "&&";
	case Expr::Op::equal:
		return "=";
	case Expr::Op::unequal:
		return "!=";
	case Expr::Op::less:
		return "<";
	case Expr::Op::less_equal:
		return "<=";
	case Expr::Op::greater:
		return ">";
	case Expr::Op::greater_equal:
		return ">=";
	default:
		return "?";
	}
}

std::string atom_text(const Expr &e)
{
	long long n;
	if (e.op == Expr::Op::constant && !to_number(e.text, false, n))
		return "\"" + e.text + "\"";
	return e.text;
}

} // namespace

ExprPtr parse_tokens(const Token *begin, const Token *end)
{
	return ExprParser(begin, end).parse();
}

ExprPtr parse_expr(std::string_view text)
{
	auto tokens = tokenize(text);
	return parse_tokens(tokens.data(), tokens.data() + tokens.size());
}

std::string to_string(const Expr &e)
{
	int mine = precedence(e.op);
	auto sub = [&](const ExprPtr &c) {
		std::string s = to_string(*c);
		return precedence(c->op) < mine ? "(" + s + ")" : s;
	};
	switch (e.op) {
	case Expr::Op::symbol:
	case Expr::Op::constant:
	case Expr::Op::macro:
		return atom_text(e);
	case Expr::Op::op_not:
		return "!" + sub(e.left);
	default:
		return sub(e.left) + " " + std::string(op_text(e.op)) + " " + sub(e.right);
	}
}

ExprPtr expr_and(ExprPtr a, ExprPtr b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return make(Expr::Op::op_and, std::move(a), std::move(b));
}

Tristate Evaluator::symbol(std::string_view name) const
{
	if (name == "y")
		return Tristate::yes;
	if (name == "m")
		return Tristate::mod;
	if (name == "n")
		return Tristate::no;
	const Entry *e = values_.find(name);
	if (!e)
		return Tristate::no;
	switch (e->value.kind()) {
	case Value::Kind::yes:
		return Tristate::yes;
	case Value::Kind::module:
		return Tristate::mod;
	default:
		return Tristate::no;
	}
}

std::string Evaluator::string_of(const Expr &e) const
{
	if (e.op != Expr::Op::symbol)
		return e.text;
	if (e.text == "y" || e.text == "m" || e.text == "n")
		return e.text;
	if (const Entry *en = values_.find(e.text))
		return en->value.plain();
	Type t = Type::unknown;
	if (kconfig_)
		if (const Symbol *s = kconfig_->find(e.text))
			t = s->type();
	return t == Type::string || t == Type::integer || t == Type::hex ? "" : "n";
}

Tristate Evaluator::eval(const Expr &e) const
{
	switch (e.op) {
	case Expr::Op::symbol:
		return symbol(e.text);
	case Expr::Op::constant:
		return Tristate::no;
	case Expr::Op::macro:
		// A compiler or tool test we do not run: the final .config already holds its effect in
		// the symbols that use it, so it never counts as the reason something is off.
		return Tristate::yes;
	case Expr::Op::op_not:
		return static_cast<Tristate>(2 - static_cast<int>(eval(*e.left)));
	case Expr::Op::op_and:
		return std::min(eval(*e.left), eval(*e.right));
	case Expr::Op::op_or:
		return std::max(eval(*e.left), eval(*e.right));
	default:
		break;
	}
	std::string a = string_of(*e.left), b = string_of(*e.right);
	auto is_hex = [&](const Expr &x) {
		if (!kconfig_ || x.op != Expr::Op::symbol)
			return false;
		const Symbol *s = kconfig_->find(x.text);
		return s && s->type() == Type::hex;
	};
	int cmp;
	long long na, nb;
	if (to_number(a, is_hex(*e.left), na) && to_number(b, is_hex(*e.right), nb))
		cmp = (na > nb) - (na < nb);
	else
		cmp = a.compare(b) < 0 ? -1 : a.compare(b) > 0 ? 1 : 0;
	bool r = false;
	switch (e.op) {
	case Expr::Op::equal:
		r = cmp == 0;
		break;
	case Expr::Op::unequal:
		r = cmp != 0;
		break;
	case Expr::Op::less:
		r = cmp < 0;
		break;
	case Expr::Op::less_equal:
		r = cmp <= 0;
		break;
	case Expr::Op::greater:
		r = cmp > 0;
		break;
	case Expr::Op::greater_equal:
		r = cmp >= 0;
		break;
	default:
		break;
	}
	return r ? Tristate::yes : Tristate::no;
}

std::vector<std::string> Evaluator::blockers(const Expr &e, Tristate want) const
{
	std::vector<std::string> out;
	collect(e, want, false, out);
	return out;
}

// negated: e itself must stay at or below 2-want (it sits under a '!'); otherwise at or above want.
void Evaluator::collect(const Expr &e, Tristate want, bool negated, std::vector<std::string> &out) const
{
	Tristate v = eval(e);
	int limit = 2 - static_cast<int>(want);
	if (!negated ? v >= want : static_cast<int>(v) <= limit)
		return;
	auto add = [&](std::string s) {
		if (std::find(out.begin(), out.end(), s) == out.end())
			out.push_back(std::move(s));
	};
	switch (e.op) {
	case Expr::Op::symbol:
		if (e.text == "n" || e.text == "y" || e.text == "m")
			add(fmt::format("'{}' is constant", e.text));
		else if (const Entry *r = requested_ ? requested_->find(e.text) : nullptr)
			add(r->value == values_.value_of(e.text)
				    ? fmt::format("{} is {} from {}", e.text, string_of(e), r->origin.str())
				    : fmt::format("{} is {} though {} asked for {}", e.text, string_of(e), r->origin.str(),
						  r->value.text()));
		else
			add(fmt::format("{} is {}", e.text, string_of(e)));
		return;
	case Expr::Op::constant:
	case Expr::Op::macro:
		add(fmt::format("{} is false", atom_text(e)));
		return;
	case Expr::Op::op_not:
		collect(*e.left, want, !negated, out);
		return;
	case Expr::Op::op_and:
	case Expr::Op::op_or:
		// Below want: an && is held down by each low operand, an || by all of them. Under a '!'
		// the roles swap.
		if ((e.op == Expr::Op::op_and) != negated) {
			for (const auto &c : {e.left, e.right})
				if (!negated ? eval(*c) < want : static_cast<int>(eval(*c)) > limit)
					collect(*c, want, negated, out);
		} else {
			collect(*e.left, want, negated, out);
			collect(*e.right, want, negated, out);
		}
		return;
	default:
		break;
	}
	std::string lhs = e.left->op == Expr::Op::symbol ? fmt::format(" ({} is '{}')", e.left->text, string_of(*e.left)) : "";
	add(fmt::format("{} is {}{}", to_string(e), negated ? "true" : "false", lhs));
}

} // namespace distkernel::kconfig
