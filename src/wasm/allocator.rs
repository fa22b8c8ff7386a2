//! The wasm module's memory allocator: one free list per power-of-two size class, blocks
//! carved from memory obtained with `memory.grow` and never returned (wasm memory cannot
//! shrink anyway).
//!
//! Why not Rust's default (dlmalloc): it is about 7 KB of a module whose size users pay for
//! on every page load, and its strengths (coalescing, best fit) buy nothing here. This
//! module's allocations are a few buffers reused across calls and short strings of a few
//! recurring sizes, so exact-class free lists reuse every freed block, and memory stops
//! growing after warm-up (`npm run memory` checks it).
//!
//! wasm32 here is single-threaded: nothing else can run between two instructions of this
//! code, which is what makes the plain `Cell`s below sound.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr::null_mut;

/// The smallest block: room for the free-list link, and the alignment every block has.
const MIN_BLOCK_SHIFT: u32 = 4;
const BLOCK_ALIGN: usize = 1 << MIN_BLOCK_SHIFT;
/// Classes 2^0 ..= 2^31; the ones below `MIN_BLOCK_SHIFT` stay empty.
const CLASSES: usize = 32;
const PAGE: usize = 64 * 1024;

/// The allocator. `free[k]` heads a list of free blocks of 2^k bytes, linked through their
/// first word; `next..end` is memory not yet carved into blocks.
pub struct SizeClassAllocator {
    free: [Cell<usize>; CLASSES],
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: wasm32 without threads; see the module comment.
unsafe impl Sync for SizeClassAllocator {}

impl SizeClassAllocator {
    /// An allocator with no memory yet; it grows wasm memory on first use.
    pub const fn new() -> Self {
        Self {
            free: [const { Cell::new(0) }; CLASSES],
            next: Cell::new(0),
            end: Cell::new(0),
        }
    }

    // Not inlined: allocation sites are everywhere, and one copy of this is smaller.
    #[inline(never)]
    fn take(&self, layout: Layout) -> *mut u8 {
        let Some(class) = Self::class_of(layout) else {
            return null_mut();
        };
        let head = self.free[class].get();
        if head == 0 {
            return self.carve(class);
        }
        // SAFETY: `head` is a free block of this class; its first word links the next one.
        self.free[class].set(unsafe { *(head as *const usize) });
        head as *mut u8
    }

    #[inline(never)]
    fn give_back(&self, ptr: *mut u8, layout: Layout) {
        if let Some(class) = Self::class_of(layout) {
            // SAFETY: the block is ours again (see `dealloc`) and at least 16 bytes.
            unsafe { *(ptr as *mut usize) = self.free[class].get() };
            self.free[class].set(ptr as usize);
        }
    }

    /// The class of blocks that fit `layout`, if any.
    fn class_of(layout: Layout) -> Option<usize> {
        if layout.align() > BLOCK_ALIGN {
            return None;
        }
        let size = layout.size().max(BLOCK_ALIGN);
        let class = (usize::BITS - (size - 1).leading_zeros()) as usize;
        (class < CLASSES).then_some(class)
    }

    /// A new block of 2^`class` bytes from the unused tail, growing memory when needed.
    fn carve(&self, class: usize) -> *mut u8 {
        let size = 1usize << class;
        if self.end.get() - self.next.get() < size {
            let pages = size.div_ceil(PAGE);
            let previous = core::arch::wasm32::memory_grow(0, pages);
            if previous == usize::MAX {
                return null_mut();
            }
            let start = previous * PAGE;
            // Memory is contiguous unless something else grew it in between; then the old
            // tail is left unused.
            if start != self.end.get() {
                self.next.set(start);
            }
            self.end.set(start + pages * PAGE);
        }
        let block = self.next.get();
        self.next.set(block + size);
        block as *mut u8
    }
}

impl Default for SizeClassAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: blocks are handed out once until freed, are at least `layout.size()` bytes and
// aligned to 16 (every block size is a multiple of 16 and so is every carve start: page
// starts, plus multiples of 16), and `dealloc` only takes back what `alloc` gave.
unsafe impl GlobalAlloc for SizeClassAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.take(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // The caller guarantees `ptr` came from `alloc` with this layout.
        self.give_back(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if Self::class_of(layout).is_some() && Self::class_of(layout) == Self::class_of(new_layout)
        {
            return ptr; // the block already has room
        }
        let new = self.take(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are valid for the bytes copied, and distinct.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            self.give_back(ptr, layout);
        }
        new
    }
}
