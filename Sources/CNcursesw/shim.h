// ncursesw for Swift: the wide-character API, and getters for the globals that
// strict concurrency will not let Swift read directly. Every symbol here starts with vigie_.
#ifndef VIGIE_CNCURSESW_SHIM_H
#define VIGIE_CNCURSESW_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

static inline WINDOW *vigie_stdscr(void) { return stdscr; }
static inline int vigie_lines(void) { return LINES; }
static inline int vigie_cols(void) { return COLS; }
static inline int vigie_colors(void) { return COLORS; }
static inline int vigie_color_pairs(void) { return COLOR_PAIRS; }
static inline chtype vigie_color_pair(int n) { return COLOR_PAIR(n); }
static inline int vigie_key_resize(void) { return KEY_RESIZE; }
static inline int vigie_key_mouse(void) { return KEY_MOUSE; }
static inline chtype vigie_a_bold(void) { return A_BOLD; }
static inline mmask_t vigie_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t vigie_button1_double_clicked(void) { return BUTTON1_DOUBLE_CLICKED; }
static inline chtype vigie_a_reverse(void) { return A_REVERSE; }

/// 1 when terminal `term`'s terminfo entry (NULL: $TERM's, or the one curses runs with)
/// says it takes 24-bit colours: the RGB flag (ncurses' *-direct entries) or tmux's Tc.
/// Loads the entry itself when it must, and frees what it loaded.
static inline int vigie_terminfo_direct_colour(const char *term) {
    TERMINAL *previous = cur_term;
    int loaded = 0;
    if (term != NULL || previous == NULL) {
        int status = 0;
        if (setupterm(term, 1, &status) != OK) {
            set_curterm(previous);
            return 0;
        }
        loaded = 1;
    }
    int direct = tigetflag("RGB") == 1 || tigetflag("Tc") == 1;
    if (loaded) del_curterm(set_curterm(previous));
    return direct;
}

#endif
